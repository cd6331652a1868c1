import ArgumentParser

/// One binary for the broker and its tools, as Kafka's `bin/` scripts are one distribution.
@main
struct Odradek: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "odradek",
        abstract: "A Kafka-compatible message broker coordinated by ZooKeeper.",
        subcommands: [ServerCommand.self, TopicsCommand.self, ConsumerGroupsCommand.self, DumpLogCommand.self]
    )
}
