import Foundation

/// Kafka writes every znode as JSON through Jackson; key order carries no meaning. These helpers
/// read and write the untyped JSON objects the znode types map to and from.
enum ZNodeJSON {
    static func encode(_ object: [String: Any]) -> [UInt8] {
        // Sorted keys: the same content always gives the same bytes, which makes CAS retries comparable.
        (try? Array(JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))) ?? []
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw CoordinationError.malformed(path: path, detail: "not a JSON object: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        return object
    }
}

extension Dictionary where Key == String, Value == Any {
    func int(_ key: String) -> Int? {
        switch self[key] {
        case let n as NSNumber: n.intValue
        case let s as String: Int(s)
        default: nil
        }
    }

    func int64(_ key: String) -> Int64? {
        switch self[key] {
        case let n as NSNumber: n.int64Value
        case let s as String: Int64(s)
        default: nil
        }
    }

    func string(_ key: String) -> String? { self[key] as? String }

    func ints(_ key: String) -> [Int32]? {
        (self[key] as? [Any])?.compactMap { ($0 as? NSNumber)?.int32Value }
    }

    func object(_ key: String) -> [String: Any]? { self[key] as? [String: Any] }
}

public enum CoordinationError: Error, Sendable, CustomStringConvertible {
    /// A znode's content does not parse as the format Kafka defines for its path.
    case malformed(path: String, detail: String)
    /// Another broker became controller, or this one lost its session: its writes are fenced.
    case controllerMoved(detail: String)
    /// A request the coordination layer refuses, with Kafka's wording where Kafka has one.
    case invalidRequest(String)
    /// The broker id is held by a live broker's session.
    case brokerIdInUse(Int32)

    public var description: String {
        switch self {
        case .malformed(let path, let detail): "znode \(path) is malformed: \(detail)"
        case .controllerMoved(let detail): "controller moved: \(detail)"
        case .invalidRequest(let message): message
        case .brokerIdInUse(let id): "broker id \(id) is registered by another live broker (/brokers/ids/\(id) exists); choose another broker.id"
        }
    }
}
