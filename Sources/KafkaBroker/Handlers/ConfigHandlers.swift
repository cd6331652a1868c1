import KafkaConfig
import KafkaCoordination
import KafkaModel
import KafkaProtocol
import Logging

/// Kafka's config resource types.
private enum ResourceType: Int8 {
    case topic = 2
    case broker = 4
}

extension KafkaServer {
    /// The broker's configuration with its dynamic layers from ZooKeeper (`/config/brokers/<default>`
    /// and `/config/brokers/<id>`).
    private func currentBrokerConfig() async throws -> BrokerConfig? {
        guard let base = settings.brokerConfig else { return nil }
        let defaults = try await zk.getEntityConfig(type: "brokers", name: "<default>")
        let own = try await zk.getEntityConfig(type: "brokers", name: "\(brokerID)")
        return (try? base.applyingDynamic(defaults: defaults, broker: own)) ?? base
    }

    /// DescribeConfigs for topics (their overrides over the broker's defaults, with sources and
    /// synonyms) and for this broker.
    func describeConfigs(_ request: DescribeConfigsRequest, _ context: RequestContext) async -> DescribeConfigsResponse {
        var results: [DescribeConfigsResponse.DescribeConfigsResult] = []
        let synonyms = context.version >= 1 && request.includeSynonyms
        let documentation = context.version >= 3 && request.includeDocumentation
        for resource in request.resources {
            var result = DescribeConfigsResponse.DescribeConfigsResult(
                errorCode: 0, resourceType: resource.resourceType, resourceName: resource.resourceName)
            do {
                guard let broker = try await currentBrokerConfig() else {
                    throw DescribeFailure(code: .unknownServerError, message: "this broker was started without a configuration file")
                }
                let entries: [ConfigEntry]
                switch ResourceType(rawValue: resource.resourceType) {
                case .topic:
                    guard (try await zk.getAssignment(resource.resourceName)) != nil else {
                        throw DescribeFailure(code: .unknownTopicOrPartition, message: "Topic '\(resource.resourceName)' does not exist.")
                    }
                    let overrides = try await zk.getTopicConfig(resource.resourceName)
                    let topic = try TopicConfig(overrides: overrides, broker: broker)
                    entries = topic.describe(
                        broker: broker, names: resource.configurationKeys, includeSynonyms: synonyms, includeDocumentation: documentation)
                case .broker where resource.resourceName.isEmpty:
                    entries = broker.describeDynamicDefaults(
                        names: resource.configurationKeys, includeSynonyms: synonyms, includeDocumentation: documentation)
                case .broker where resource.resourceName == "\(brokerID)":
                    entries = broker.describe(
                        names: resource.configurationKeys, includeSynonyms: synonyms, includeDocumentation: documentation)
                case .broker:
                    throw DescribeFailure(
                        code: .invalidRequest,
                        message: "Unexpected broker id, expected \(brokerID) or empty string, but received \(resource.resourceName)")
                case nil:
                    throw DescribeFailure(code: .invalidRequest, message: "Unsupported resource type \(resource.resourceType)")
                }
                result.configs = entries.map { entry in
                    DescribeConfigsResponse.DescribeConfigsResourceResult(
                        name: entry.name, value: entry.value, readOnly: entry.readOnly, isDefault: entry.isDefault,
                        configSource: entry.source.rawValue, isSensitive: entry.isSensitive,
                        synonyms: entry.synonyms.map { .init(name: $0.name, value: $0.value, source: $0.source.rawValue) },
                        configType: entry.type.rawValue, documentation: entry.documentation)
                }
            } catch let failure as DescribeFailure {
                result.errorCode = failure.code.rawValue
                result.errorMessage = failure.message
            } catch {
                result.errorCode = KafkaErrorCode.invalidConfig.rawValue
                result.errorMessage = "\(error)"
            }
            results.append(result)
        }
        return DescribeConfigsResponse(results: results)
    }

    /// AlterConfigs: replaces a resource's whole set of overrides.
    func alterConfigs(_ request: AlterConfigsRequest, _ context: RequestContext) async -> AlterConfigsResponse {
        var responses: [AlterConfigsResponse.AlterConfigsResourceResponse] = []
        for resource in request.resources {
            let overrides = Dictionary(resource.configs.compactMap { config in config.value.map { (config.name, $0) } }, uniquingKeysWith: { $1 })
            let failure = await storeOverrides(
                type: resource.resourceType, name: resource.resourceName, validateOnly: request.validateOnly) { _ in overrides }
            responses.append(.init(
                errorCode: failure?.code.rawValue ?? 0, errorMessage: failure?.message, resourceType: resource.resourceType,
                resourceName: resource.resourceName))
        }
        return AlterConfigsResponse(responses: responses)
    }

    /// IncrementalAlterConfigs: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) on single keys.
    func incrementalAlterConfigs(_ request: IncrementalAlterConfigsRequest, _ context: RequestContext) async -> IncrementalAlterConfigsResponse {
        var responses: [IncrementalAlterConfigsResponse.AlterConfigsResourceResponse] = []
        for resource in request.resources {
            let failure = await storeOverrides(
                type: resource.resourceType, name: resource.resourceName, validateOnly: request.validateOnly
            ) { current in
                var next = current
                for config in resource.configs {
                    let items = { (text: String?) in (text ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty } }
                    switch config.configOperation {
                    case 0: next[config.name] = config.value
                    case 1: next[config.name] = nil
                    case 2: next[config.name] = (items(next[config.name]) + items(config.value).filter { !items(next[config.name]).contains($0) }).joined(separator: ",")
                    case 3: next[config.name] = items(next[config.name]).filter { !items(config.value).contains($0) }.joined(separator: ",")
                    default: throw DescribeFailure(code: .invalidRequest, message: "Unknown config operation \(config.configOperation)")
                    }
                }
                return next
            }
            responses.append(.init(
                errorCode: failure?.code.rawValue ?? 0, errorMessage: failure?.message, resourceType: resource.resourceType,
                resourceName: resource.resourceName))
        }
        return IncrementalAlterConfigsResponse(responses: responses)
    }

    /// Computes a resource's new overrides from its current ones, validates them as Kafka would and,
    /// unless `validateOnly`, writes them to ZooKeeper with a change notification (every broker
    /// applies topic changes from there). Returns the failure, or nil.
    private func storeOverrides(
        type: Int8, name: String, validateOnly: Bool, _ change: ([String: String]) throws -> [String: String]
    ) async -> DescribeFailure? {
        do {
            guard let broker = settings.brokerConfig else {
                return DescribeFailure(code: .unknownServerError, message: "this broker was started without a configuration file")
            }
            switch ResourceType(rawValue: type) {
            case .topic:
                guard (try await zk.getAssignment(name)) != nil else {
                    return DescribeFailure(code: .unknownTopicOrPartition, message: "Topic '\(name)' does not exist.")
                }
                let next = try change(try await zk.getTopicConfig(name))
                do {
                    try TopicConfig.validate(next, broker: broker)
                } catch {
                    return DescribeFailure(code: .invalidConfig, message: "\(error)")
                }
                if !validateOnly {
                    try await zk.setEntityConfig(type: "topics", name: name, config: next)
                    logger.info("topic \(name) config is now \(next)")
                }
            case .broker:
                guard name.isEmpty || name == "\(brokerID)" else {
                    return DescribeFailure(code: .invalidRequest, message: "Unexpected broker id, expected \(brokerID) or empty string, but received \(name)")
                }
                let entity = name.isEmpty ? "<default>" : name
                let defaults = try await zk.getEntityConfig(type: "brokers", name: "<default>")
                let own = try await zk.getEntityConfig(type: "brokers", name: "\(brokerID)")
                let next = try change(name.isEmpty ? defaults : own)
                do {
                    _ = try broker.applyingDynamic(defaults: name.isEmpty ? next : defaults, broker: name.isEmpty ? own : next)
                } catch {
                    return DescribeFailure(code: .invalidConfig, message: "\(error)")
                }
                if !validateOnly { try await zk.setEntityConfig(type: "brokers", name: entity, config: next) }
            case nil:
                return DescribeFailure(code: .invalidRequest, message: "Unsupported resource type \(type)")
            }
            return nil
        } catch let failure as DescribeFailure {
            return failure
        } catch {
            return DescribeFailure(code: .unknownServerError, message: "\(error)")
        }
    }
}

private struct DescribeFailure: Error {
    var code: KafkaErrorCode
    var message: String
}
