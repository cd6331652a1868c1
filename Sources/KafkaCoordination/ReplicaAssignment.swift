/// Spreads a topic's replicas over brokers as Kafka does (`AdminUtils.assignReplicasToBrokers`):
/// leaders round-robin from a start index, followers shifted so that replicas of consecutive
/// partitions land on different brokers, and, when brokers have racks, each partition's replicas
/// on as many racks as possible.
public enum ReplicaAssignment {
    public struct Broker: Sendable, Hashable {
        public var id: Int32
        public var rack: String?
        public init(id: Int32, rack: String? = nil) {
            self.id = id
            self.rack = rack
        }
    }

    /// - Parameters:
    ///   - fixedStartIndex: the first partition's leader index and the replica shift; random when negative.
    ///   - startPartition: the first partition to assign (for added partitions).
    public static func assign(
        partitions: Int, replicationFactor: Int, brokers: [Broker], fixedStartIndex: Int = -1, startPartition: Int = 0
    ) throws -> [Int32: [Int32]] {
        guard partitions > 0 else { throw CoordinationError.invalidRequest("Number of partitions must be larger than 0.") }
        guard replicationFactor > 0 else { throw CoordinationError.invalidRequest("Replication factor must be larger than 0.") }
        guard replicationFactor <= brokers.count else {
            throw CoordinationError.invalidRequest(
                "Replication factor: \(replicationFactor) larger than available brokers: \(brokers.count).")
        }
        let withRack = brokers.filter { $0.rack != nil }
        if withRack.isEmpty {
            return rackUnaware(partitions, replicationFactor, brokers.map(\.id).sorted(), fixedStartIndex, startPartition)
        }
        guard withRack.count == brokers.count else {
            throw CoordinationError.invalidRequest("Not all brokers have rack information for replica rack aware assignment.")
        }
        return rackAware(partitions, replicationFactor, brokers, fixedStartIndex, startPartition)
    }

    private static func replicaIndex(_ first: Int, _ shift: Int, _ index: Int, _ count: Int) -> Int {
        (first + 1 + (shift + index) % (count - 1)) % count
    }

    private static func rackUnaware(_ partitions: Int, _ rf: Int, _ ids: [Int32], _ fixed: Int, _ start: Int) -> [Int32: [Int32]] {
        var result: [Int32: [Int32]] = [:]
        let n = ids.count
        let startIndex = fixed >= 0 ? fixed : Int.random(in: 0..<n)
        var shift = fixed >= 0 ? fixed : Int.random(in: 0..<n)
        var partition = max(0, start)
        for _ in 0..<partitions {
            if partition > 0 && partition % n == 0 { shift += 1 }
            let first = (partition + startIndex) % n
            var replicas = [ids[first]]
            for j in 0..<(rf - 1) { replicas.append(ids[replicaIndex(first, shift, j, n)]) }
            result[Int32(partition)] = replicas
            partition += 1
        }
        return result
    }

    /// Brokers ordered by alternating racks: first broker of each rack, then the second of each, ...
    static func rackAlternated(_ brokers: [Broker]) -> [Broker] {
        let byRack = Dictionary(grouping: brokers, by: { $0.rack ?? "" }).mapValues { $0.sorted { $0.id < $1.id } }
        let racks = byRack.keys.sorted()
        var result: [Broker] = []
        var index = 0
        while result.count < brokers.count {
            for rack in racks where index < byRack[rack]!.count { result.append(byRack[rack]![index]) }
            index += 1
        }
        return result
    }

    private static func rackAware(_ partitions: Int, _ rf: Int, _ brokers: [Broker], _ fixed: Int, _ start: Int) -> [Int32: [Int32]] {
        let arranged = rackAlternated(brokers)
        let n = arranged.count
        let rackCount = Set(arranged.map { $0.rack ?? "" }).count
        var result: [Int32: [Int32]] = [:]
        let startIndex = fixed >= 0 ? fixed : Int.random(in: 0..<n)
        var shift = fixed >= 0 ? fixed : Int.random(in: 0..<n)
        var partition = max(0, start)
        for _ in 0..<partitions {
            if partition > 0 && partition % n == 0 { shift += 1 }
            let first = (partition + startIndex) % n
            let leader = arranged[first]
            var replicas = [leader.id]
            var racks: Set<String> = [leader.rack ?? ""]
            var used: Set<Int32> = [leader.id]
            var k = 0
            for _ in 0..<(rf - 1) {
                while true {
                    let broker = arranged[replicaIndex(first, shift * rackCount, k, n)]
                    k += 1
                    let rack = broker.rack ?? ""
                    if (!racks.contains(rack) || racks.count == rackCount) && (!used.contains(broker.id) || used.count == n) {
                        replicas.append(broker.id)
                        racks.insert(rack)
                        used.insert(broker.id)
                        break
                    }
                }
            }
            result[Int32(partition)] = replicas
            partition += 1
        }
        return result
    }
}
