import KafkaModel
import Logging

/// Why the controller refused a controlled shutdown or an election request as a whole.
public enum ControllerRefusal: Error, Sendable, Equatable {
    /// This broker is not the active controller (NOT_CONTROLLER).
    case notController
    /// The broker is not registered (BROKER_NOT_AVAILABLE).
    case brokerNotAvailable
    /// The request names an older registration of the broker (STALE_BROKER_EPOCH).
    case staleBrokerEpoch
    /// ZooKeeper failed meanwhile; the caller may retry.
    case failed(String)
}

/// The partitions the shutting-down broker still leads (empty: it may stop now).
public typealias ControlledShutdownOutcome = Result<[TopicPartition], ControllerRefusal>

/// `ElectLeaders`' two kinds (its ElectionType field).
public enum ElectionKind: Int8, Sendable {
    /// The first replica of the assignment, when it is alive and in the ISR.
    case preferred = 0
    /// A live replica for a partition with no leader, even out of the ISR (data may be lost).
    case unclean = 1
}

/// Per partition: nil when a new leader was elected, else why not.
public typealias ElectionOutcome = Result<[TopicPartition: ElectionFailure?], ControllerRefusal>

public enum ElectionFailure: Sendable, Equatable {
    /// The partition already has the leader asked for (ELECTION_NOT_NEEDED).
    case notNeeded
    /// The wanted leader is not alive or not in the ISR (PREFERRED_LEADER_NOT_AVAILABLE /
    /// ELIGIBLE_LEADERS_NOT_AVAILABLE).
    case noEligibleLeader
    /// No such topic or partition (UNKNOWN_TOPIC_OR_PARTITION).
    case unknownPartition
}

extension Controller {
    // MARK: Requests from brokers and clients, queued as events

    /// A broker about to stop asks for its leaderships to move (Kafka's ControlledShutdown): they go
    /// to other ISR members, it leaves every ISR and stops replicating. Answers the partitions it
    /// still leads (those with no other ISR member); the broker retries while any remain.
    public func requestControlledShutdown(broker: Int32, brokerEpoch: Int64) async -> ControlledShutdownOutcome {
        await withCheckedContinuation { reply in
            if case .terminated = events.yield(.controlledShutdown(broker: broker, brokerEpoch: brokerEpoch, reply: reply)) {
                reply.resume(returning: .failure(.notController))
            }
        }
    }

    /// Elects leaders on demand (ElectLeaders): `partitions` nil means every partition.
    public func requestElection(_ kind: ElectionKind, partitions: [TopicPartition]?) async -> ElectionOutcome {
        await withCheckedContinuation { reply in
            if case .terminated = events.yield(.electLeaders(kind, partitions, reply: reply)) {
                reply.resume(returning: .failure(.notController))
            }
        }
    }

    /// Queues the periodic check for leaders away from their preferred replica
    /// (`auto.leader.rebalance.enable`).
    public func checkLeaderBalance() { events.yield(.autoRebalance) }

    // MARK: Controlled shutdown

    func controlledShutdown(broker: Int32, brokerEpoch: Int64) async -> ControlledShutdownOutcome {
        guard isActive else { return .failure(.notController) }
        guard let info = liveBrokers[broker] else { return .failure(.brokerNotAvailable) }
        if brokerEpoch >= 0 && brokerEpoch < info.epoch { return .failure(.staleBrokerEpoch) }
        shuttingDown.insert(broker)
        logger.info("controlled shutdown of broker \(broker)", metadata: ["broker.id": "\(brokerID)", "controller.epoch": "\(epoch)"])
        let hosted = allPartitions().filter { replicas($0).contains(broker) }
        let eligible = Set(liveBrokers.keys).subtracting(shuttingDown)
        do {
            // Leaderships move to the first other ISR member that is alive; the broker leaves every
            // ISR it is in. A partition whose ISR has no one else keeps its leader.
            let changed = try await updateStates(hosted) { tp, state in
                var next = state
                next.controllerEpoch = self.epoch
                if state.leader == broker {
                    guard self.replicas(tp).count > 1,
                        let leader = self.replicas(tp).first(where: { $0 != broker && eligible.contains($0) && state.isr.contains($0) })
                    else { return nil }
                    next.leader = leader
                    next.leaderEpoch = state.leaderEpoch + 1
                }
                next.isr = next.isr.filter { $0 != broker }
                return next.isr == state.isr && next.leader == state.leader ? nil : next
            }
            // The stopping broker hears it too (as in Kafka): it becomes a follower, so it answers
            // NOT_LEADER_OR_FOLLOWER to produces and to the acks=all requests waiting on it.
            await sendLeaderAndIsr(changed)
            // The broker stops fetching for everything it hosts: it is out of the ISRs now.
            await channel.send([
                .stopReplica(broker: broker, brokerEpoch: info.epoch, controllerEpoch: epoch, controllerID: brokerID, partitions: hosted, delete: false)
            ])
        } catch {
            return .failure(.failed("\(error)"))
        }
        let remaining = hosted.filter { states[$0]?.leader == broker && replicas($0).count > 1 }
        logger.info(
            "broker \(broker) may shut down: \(remaining.count) partitions still led by it",
            metadata: ["broker.id": "\(brokerID)", "controller.epoch": "\(epoch)"])
        return .success(remaining)
    }

    // MARK: Preferred and unclean elections on demand

    func electLeaders(_ kind: ElectionKind, _ requested: [TopicPartition]?) async -> ElectionOutcome {
        guard isActive else { return .failure(.notController) }
        let all = Set(allPartitions())
        let partitions = requested ?? Array(all)
        var results: [TopicPartition: ElectionFailure?] = [:]
        let live = Set(liveBrokers.keys).subtracting(shuttingDown)
        // Whether a leader is eligible is the election functions' call; here only what needs none.
        var candidates: [TopicPartition] = []
        for tp in partitions {
            guard all.contains(tp), let state = states[tp] else {
                results[tp] = .unknownPartition
                continue
            }
            let satisfied = switch kind {
            case .preferred: replicas(tp).first == state.leader
            case .unclean: state.leader != LeaderAndIsr.noLeader && live.contains(state.leader)
            }
            if satisfied { results[tp] = .notNeeded } else { candidates.append(tp) }
        }
        do {
            let changed = try await updateStates(candidates) { tp, state in
                switch kind {
                case .preferred: Self.electPreferred(state, replicas: self.replicas(tp), live: live, controllerEpoch: self.epoch)
                case .unclean: Self.elect(state, replicas: self.replicas(tp), live: live, unclean: true, controllerEpoch: self.epoch)
                }
            }
            await sendLeaderAndIsr(changed)
            for tp in candidates {
                let elected = changed[tp].map { $0.leader != LeaderAndIsr.noLeader } ?? false
                results[tp] = elected ? .some(nil) : .some(.noEligibleLeader)
            }
            if !changed.isEmpty {
                logger.info("\(kind) election moved \(changed.count) leaders", metadata: ["broker.id": "\(brokerID)", "controller.epoch": "\(epoch)"])
            }
        } catch {
            return .failure(.failed("\(error)"))
        }
        return .success(results)
    }

    /// The preferred replica (first of the assignment) becomes leader if it is alive and in the ISR.
    static func electPreferred(_ state: LeaderAndIsr, replicas: [Int32], live: Set<Int32>, controllerEpoch: Int32) -> LeaderAndIsr? {
        guard let preferred = replicas.first, preferred != state.leader, live.contains(preferred), state.isr.contains(preferred) else {
            return nil
        }
        var next = state
        next.leader = preferred
        next.leaderEpoch = state.leaderEpoch + 1
        next.controllerEpoch = controllerEpoch
        return next
    }

    /// Kafka's `checkAndTriggerAutoLeaderRebalance`: for each broker, the share of the partitions it
    /// is preferred for but does not lead; above `leader.imbalance.per.broker.percentage`, those
    /// partitions get their preferred leader back (when it is in the ISR).
    func rebalanceLeaders() async throws {
        guard shuttingDown.isEmpty else { return }
        var preferredFor: [Int32: [TopicPartition]] = [:]
        for tp in allPartitions() {
            if let preferred = replicas(tp).first { preferredFor[preferred, default: []].append(tp) }
        }
        var toMove: [TopicPartition] = []
        for (broker, partitions) in preferredFor where liveBrokers[broker] != nil {
            let away = partitions.filter { states[$0].map { $0.leader != broker } ?? false }
            let ratio = Double(away.count) / Double(partitions.count)
            if ratio * 100 > Double(settings.leaderImbalancePerBrokerPercentage) { toMove += away }
        }
        guard !toMove.isEmpty else { return }
        let live = Set(liveBrokers.keys)
        let changed = try await updateStates(toMove) { tp, state in
            Self.electPreferred(state, replicas: self.replicas(tp), live: live, controllerEpoch: self.epoch)
        }
        await sendLeaderAndIsr(changed)
        if !changed.isEmpty {
            logger.info("leader rebalance moved \(changed.count) leaders back to their preferred replicas", metadata: ["broker.id": "\(brokerID)"])
        }
    }
}
