// swift-tools-version:6.1
import PackageDescription

// MARK: - Dependencies (versions as listed on the build machines)

let swiftNIO: Package.Dependency = .package(url: "https://github.com/apple/swift-nio", from: "2.101.2")
let argumentParser: Package.Dependency = .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
let swiftLog: Package.Dependency = .package(url: "https://github.com/apple/swift-log", from: "1.16.2")

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

// MARK: - C libraries (Debian's -dev packages; tools/setup installs them)

let cTargets: [Target] = [
    // Debian ships no pkg-config file for the ZooKeeper client; the module map links zookeeper_mt.
    .systemLibrary(name: "CZooKeeper", path: "Sources/CZooKeeper", providers: [.apt(["libzookeeper-mt-dev"])]),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CSnappy", path: "Sources/CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
    .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
    .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    // CRC-32C: the SSE4.2 instruction where the CPU has it, a table fallback otherwise (chosen at run time).
    .target(name: "CCRC32C", path: "Sources/CCRC32C"),
]

// MARK: - Libraries

let libraryTargets: [Target] = [
    // Codecs only: no files, no sockets.
    .target(name: "KafkaCompression", dependencies: ["CZlib", "CSnappy", "CLZ4", "CZstd"]),
    // Record batch v2: header, records, varints, CRC, validation.
    .target(name: "KafkaRecords", dependencies: ["KafkaModel", "KafkaCompression", "CCRC32C", nioCore]),
    // The log storage engine. Never imports network or ZooKeeper code.
    .target(name: "KafkaStorage", dependencies: ["KafkaModel", "KafkaRecords", "KafkaCompression", nioCore, logging]),
    // Value types every layer shares.
    .target(name: "KafkaModel"),
    // Kafka's wire protocol: primitives, headers, framing and the generated request/response messages.
    .target(name: "KafkaProtocol", dependencies: ["KafkaModel", nioCore]),
    // Kafka's znode layout, broker registration and the controller.
    .target(name: "KafkaCoordination", dependencies: ["ZooKeeperClient", "KafkaModel", logging]),
    // A general async client over ZooKeeper's C library; nothing Kafka-specific.
    .target(name: "ZooKeeperClient", dependencies: ["CZooKeeper", logging]),
    // server.properties and topic configs: Kafka's keys, defaults, validation and config sources.
    .target(name: "KafkaConfig", dependencies: ["KafkaModel", "KafkaStorage"]),
    // A small Kafka client over the wire protocol, for the tools and for broker-to-broker requests.
    .target(name: "KafkaClient", dependencies: ["KafkaProtocol", "KafkaModel", nioCore, nioPosix, logging]),
    // The broker: sockets, request handlers, partitions, and the glue to storage and coordination.
    .target(
        name: "KafkaBroker",
        dependencies: [
            "KafkaProtocol", "KafkaRecords", "KafkaStorage", "KafkaCoordination", "KafkaConfig", "KafkaClient",
            "KafkaModel", "ZooKeeperClient", nioCore, nioPosix, logging,
        ]
    ),
]

// MARK: - Executables

let executableTargets: [Target] = [
    .executableTarget(
        name: "Odradek",
        dependencies: [
            "KafkaStorage", "KafkaRecords", "KafkaBroker", "KafkaClient", "KafkaConfig", "KafkaProtocol", "KafkaModel",
            "KafkaCoordination", nioCore, nioPosix,
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            logging,
        ]
    ),
    // Storage, CRC and codec benchmarks (see BENCHMARKS.md); not part of the test run.
    .executableTarget(
        name: "OdradekBench",
        dependencies: [
            "KafkaStorage", "KafkaRecords", "KafkaCompression", "KafkaCoordination", "KafkaModel", "ZooKeeperClient",
            "TestSupport", "CZlib", "CSnappy", "CLZ4", "CZstd", nioCore, logging,
        ]
    ),
]

// MARK: - Tests

let testTargets: [Target] = [
    .testTarget(name: "KafkaCompressionTests", dependencies: ["KafkaCompression"]),
    .testTarget(
        name: "KafkaRecordsTests",
        dependencies: ["KafkaRecords", "KafkaModel", "KafkaCompression", nioCore],
        resources: [.copy("Fixtures")]
    ),
    .testTarget(
        name: "KafkaProtocolTests",
        dependencies: [
            "KafkaProtocol", "KafkaModel", nioCore,
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOTestUtils", package: "swift-nio"),
        ]
    ),
    .testTarget(name: "KafkaStorageTests", dependencies: ["KafkaStorage", "KafkaRecords", "KafkaModel", nioCore, logging]),
    // Real ZooKeeper servers for the tests, and helpers to expire sessions on demand.
    .target(name: "TestSupport", dependencies: ["ZooKeeperClient", "CZooKeeper", logging], path: "Tests/TestSupport"),
    .testTarget(name: "KafkaCoordinationTests", dependencies: ["KafkaCoordination", "ZooKeeperClient", "KafkaModel", "TestSupport", logging]),
    .testTarget(name: "KafkaConfigTests", dependencies: ["KafkaConfig", "KafkaStorage", "KafkaRecords", "KafkaCompression", "KafkaModel"]),
    .testTarget(
        name: "KafkaBrokerTests",
        dependencies: [
            "KafkaBroker", "KafkaClient", "KafkaConfig", "KafkaProtocol", "KafkaRecords", "KafkaModel", "TestSupport",
            nioCore, nioPosix, logging,
        ]
    ),
    .testTarget(name: "ZooKeeperClientTests", dependencies: ["ZooKeeperClient", "CZooKeeper", "TestSupport", logging]),
]

let package = Package(
    name: "odradek",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "odradek", targets: ["Odradek"]),
        .executable(name: "odradek-bench", targets: ["OdradekBench"]),
        .library(name: "KafkaStorage", targets: ["KafkaStorage"]),
        .library(name: "KafkaRecords", targets: ["KafkaRecords"]),
    ],
    dependencies: [swiftNIO, argumentParser, swiftLog],
    targets: cTargets + libraryTargets + executableTargets + testTargets
)

for target in package.targets where target.type != .system && target.name.first != "C" {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
