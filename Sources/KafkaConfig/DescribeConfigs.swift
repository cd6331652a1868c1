/// One synonym of a described config: a key that could supply its value, and from where.
public struct ConfigSynonym: Sendable, Hashable {
    public var name: String
    /// nil for sensitive keys.
    public var value: String?
    public var source: ConfigSource

    public init(name: String, value: String?, source: ConfigSource) {
        self.name = name
        self.value = value
        self.source = source
    }
}

/// One entry of a DescribeConfigs answer.
public struct ConfigEntry: Sendable, Hashable {
    public var name: String
    /// nil for sensitive keys and for keys without a value.
    public var value: String?
    public var readOnly: Bool
    /// Whether the value is Kafka's default (v0's `IsDefault`; v1+ use `source`).
    public var isDefault: Bool { source == .defaultConfig }
    public var source: ConfigSource
    public var isSensitive: Bool
    /// Empty unless synonyms were asked for; the first one is where the value comes from.
    public var synonyms: [ConfigSynonym]
    public var type: ConfigType
    /// nil unless documentation was asked for.
    public var documentation: String?
}

extension BrokerConfig {
    /// The broker keys DescribeConfigs reports together, most specific first
    /// (`DynamicBrokerConfig.brokerConfigSynonyms`).
    static func describeSynonyms(of name: String) -> [String] {
        switch name {
        case "log.roll.ms", "log.roll.hours": ["log.roll.ms", "log.roll.hours"]
        case "log.roll.jitter.ms", "log.roll.jitter.hours": ["log.roll.jitter.ms", "log.roll.jitter.hours"]
        case "log.flush.interval.ms": ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"]
        case "log.retention.ms", "log.retention.minutes", "log.retention.hours":
            ["log.retention.ms", "log.retention.minutes", "log.retention.hours"]
        default: [name]
        }
    }

    /// Where each synonym of `name` is set: per-broker dynamic, cluster-wide dynamic, static, then
    /// default; each layer lists `synonyms` in order, and entries before the first one named `name`
    /// are dropped, as Kafka's `ConfigHelper.configSynonyms` does.
    func configSynonyms(_ name: String, _ synonyms: [String], sensitive: Bool) -> [ConfigSynonym] {
        let defaults = Self.keysByName.compactMapValues(\.defaultValue)
        let layers: [([String: String], ConfigSource)] = [
            (dynamicBrokerProperties, .dynamicBrokerConfig), (dynamicDefaultProperties, .dynamicDefaultBrokerConfig),
            (staticProperties, .staticBrokerConfig), (defaults, .defaultConfig),
        ]
        var result: [ConfigSynonym] = []
        for (layer, source) in layers {
            for synonym in synonyms {
                guard let value = layer[synonym] else { continue }
                result.append(ConfigSynonym(name: synonym, value: sensitive ? nil : value, source: source))
            }
        }
        return Array(result.drop { $0.name != name })
    }

    /// DescribeConfigs for this broker (resource name = its id): every key, or those in `names`.
    public func describe(names: [String]? = nil, includeSynonyms: Bool = true, includeDocumentation: Bool = true) -> [ConfigEntry] {
        Self.keys.filter { names?.contains($0.name) ?? true }.sorted { $0.name < $1.name }.map { key in
            let synonyms = configSynonyms(key.name, Self.describeSynonyms(of: key.name), sensitive: key.isSensitive)
            return ConfigEntry(
                name: key.name, value: key.isSensitive ? nil : values[key.name]?.text, readOnly: !key.isDynamic,
                source: synonyms.first?.source ?? .defaultConfig, isSensitive: key.isSensitive,
                synonyms: includeSynonyms ? synonyms : [], type: key.type,
                documentation: includeDocumentation ? key.documentation : nil)
        }
    }

    /// DescribeConfigs for the cluster-wide default (empty resource name): only the keys set in
    /// /config/brokers/<default>.
    public func describeDynamicDefaults(
        names: [String]? = nil, includeSynonyms: Bool = true, includeDocumentation: Bool = true
    ) -> [ConfigEntry] {
        dynamicDefaultProperties.keys.filter { names?.contains($0) ?? true }.sorted().compactMap { name in
            guard let key = Self.keysByName[name] else { return nil }
            let synonyms = configSynonyms(name, Self.describeSynonyms(of: name), sensitive: key.isSensitive)
                .filter { $0.source == .dynamicDefaultBrokerConfig }
            return ConfigEntry(
                name: name, value: key.isSensitive ? nil : dynamicDefaultProperties[name], readOnly: !key.isDynamic,
                source: synonyms.first?.source ?? .defaultConfig, isSensitive: key.isSensitive,
                synonyms: includeSynonyms ? synonyms : [], type: key.type,
                documentation: includeDocumentation ? key.documentation : nil)
        }
    }
}

extension TopicConfig {
    /// DescribeConfigs for a topic built with `TopicConfig(overrides:broker:)` from the same `broker`:
    /// every topic key, or those in `names`, with the topic override first among the synonyms.
    public func describe(
        broker: BrokerConfig, names: [String]? = nil, includeSynonyms: Bool = true, includeDocumentation: Bool = true
    ) -> [ConfigEntry] {
        Self.keys.filter { names?.contains($0.name) ?? true }.map { key in
            let value = values[key.name]?.text
            var synonyms: [ConfigSynonym] = []
            if let primary = Self.brokerSynonyms[key.name]?.first?.name {
                synonyms = broker.configSynonyms(primary, BrokerConfig.describeSynonyms(of: primary), sensitive: key.isSensitive)
            }
            if overrides[key.name] != nil {
                synonyms.insert(ConfigSynonym(name: key.name, value: value, source: .topicConfig), at: 0)
            }
            return ConfigEntry(
                name: key.name, value: key.isSensitive ? nil : value, readOnly: false,
                source: synonyms.first?.source ?? .defaultConfig, isSensitive: key.isSensitive,
                synonyms: includeSynonyms ? synonyms : [], type: key.type,
                documentation: includeDocumentation ? key.documentation : nil)
        }
    }
}
