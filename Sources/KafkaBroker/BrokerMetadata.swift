import Foundation

/// `meta.properties` in every log directory (Kafka's BrokerMetadataCheckpoint in ZooKeeper mode):
/// `version=0`, `broker.id`, `cluster.id`. A directory written by another broker or another cluster
/// stops start-up, so two brokers never share data by mistake.
enum BrokerMetadata {
    static let fileName = "meta.properties"

    struct Mismatch: Error, CustomStringConvertible {
        var description: String
    }

    /// Checks every directory's file against the configuration; returns the broker id stored there
    /// (for `broker.id=-1`, which keeps the id it was given the first time).
    static func check(logDirs: [String], brokerID: Int32?, clusterID: String) throws -> Int32? {
        var stored: Int32?
        for directory in logDirs {
            let path = (directory as NSString).appendingPathComponent(fileName)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            var values: [String: String] = [:]
            for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2 { values[parts[0]] = parts[1] }
            }
            if let id = values["broker.id"].flatMap(Int32.init) {
                if let brokerID, id != brokerID {
                    throw Mismatch(description: "\(path) belongs to broker.id=\(id) but this broker is configured with broker.id=\(brokerID); point log.dirs at this broker's own directory, or fix broker.id")
                }
                if let earlier = stored, earlier != id {
                    throw Mismatch(description: "the log directories disagree on broker.id (\(earlier) and \(id) in \(path))")
                }
                stored = id
            }
            if let cluster = values["cluster.id"], cluster != clusterID {
                throw Mismatch(description: "\(path) belongs to cluster \(cluster) but ZooKeeper's /cluster/id is \(clusterID); this log directory is from another cluster (check zookeeper.connect and log.dirs)")
            }
        }
        return stored
    }

    static func write(logDirs: [String], brokerID: Int32, clusterID: String) throws {
        let text = "#\n#\(Date())\nversion=0\nbroker.id=\(brokerID)\ncluster.id=\(clusterID)\n"
        for directory in logDirs {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let path = (directory as NSString).appendingPathComponent(fileName)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }
}
