import KafkaCoordination
import KafkaModel
import Logging
import ZooKeeperClient

extension KafkaServer {
    /// The leader's ISR changes (Kafka's `Partition.maybeExpandIsr` / `maybeShrinkIsr`): a follower
    /// that has caught up with the high watermark joins, one that has not caught up for
    /// `replica.lag.time.max.ms` leaves. Each change is a compare-and-set on the partition's state
    /// znode, announced under `/isr_change_notification` so the controller tells every broker. A
    /// failed compare-and-set means the controller has moved on; the leader waits for its decision.
    func updateIsrs() async {
        let maxLag = Duration.milliseconds(settings.replicaLagTimeMaxMs)
        var changed: [TopicPartition] = []
        for partition in replicas.allPartitions {
            guard let isr = partition.proposedIsr(maxLag: maxLag) else { continue }
            let state = partition.snapshot
            let next = LeaderAndIsr(
                leader: brokerID, leaderEpoch: state.leaderEpoch, isr: isr, controllerEpoch: state.controllerEpoch,
                zkVersion: state.zkVersion)
            do {
                let stat = try await zk.zooKeeper.setData(
                    TopicPartitionStateZNode.path(partition.topicPartition), data: TopicPartitionStateZNode.encode(next),
                    version: state.zkVersion)
                partition.applyIsr(isr, zkVersion: stat.version)
                partition.maybeAdvanceHighWatermark()
                replicas.arrival.notify(partition.topicPartition)
                changed.append(partition.topicPartition)
                logger.info("ISR of \(partition.topicPartition) is now \(isr) (was \(state.isr))")
            } catch {
                logger.info("cannot change the ISR of \(partition.topicPartition) to \(isr): \(error)")
            }
        }
        if !changed.isEmpty {
            do {
                try await zk.writeIsrChangeNotification(changed)
            } catch {
                logger.warning("cannot announce ISR changes: \(error)")
            }
        }
    }
}
