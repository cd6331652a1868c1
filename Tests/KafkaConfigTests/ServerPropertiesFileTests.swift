import Foundation
import KafkaConfig
import Testing

/// etc/server.properties in this repository.
let serverPropertiesPath = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("etc/server.properties").path

@Suite("etc/server.properties")
struct ServerPropertiesFileTests {
    /// Every `key=` line, commented out or not.
    func documentedKeys() throws -> [String: String] {
        let text = try String(contentsOfFile: serverPropertiesPath, encoding: .utf8)
        var keys: [String: String] = [:]
        for line in text.split(separator: "\n") {
            var line = Substring(line)
            if line.hasPrefix("#") { line = line.dropFirst() }
            guard let equals = line.firstIndex(of: "="), !line.contains(" ") || line.firstIndex(of: " ")! > equals else { continue }
            keys[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return keys
    }

    @Test("loads as a valid broker configuration with the local defaults")
    func loads() throws {
        let config = try BrokerConfig.load(path: serverPropertiesPath)
        #expect(config.brokerID == 0)
        #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "127.0.0.1", port: 9092)])
        #expect(config.logDirs == ["/tmp/odradek-logs"])
        #expect(config.zookeeperConnect == "127.0.0.1:2181")
        #expect(config.offsetsTopicReplicationFactor == 1)
    }

    @Test("documents every key the broker reads, and only those")
    func documentsEveryKey() throws {
        let documented = try documentedKeys()
        let known = Set(BrokerConfig.keys.map(\.name))
        #expect(known.subtracting(documented.keys).sorted() == [])
        #expect(Set(documented.keys).subtracting(known).sorted() == [])
    }

    @Test("commented-out lines are valid too: uncommenting one never breaks the file")
    func commentedValuesAreValid() throws {
        for (key, value) in try documentedKeys() {
            let definition = try #require(BrokerConfig.keysByName[key])
            #expect(throws: Never.self, "\(key)=\(value)") { _ = try definition.parse(value) }
        }
    }
}
