/// A tool's failure and where it goes, as Kafka's command-line tools report them: `.usage` (bad
/// arguments) goes to stderr with the usage, `.execution` (the cluster refused or could not be reached)
/// to stdout in the tool's own wording. Both exit 1.
public struct CommandFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case usage
        case execution
    }

    public var kind: Kind
    public var message: String

    public static func usage(_ message: String) -> CommandFailure { CommandFailure(kind: .usage, message: message) }
    public static func execution(_ message: String) -> CommandFailure {
        CommandFailure(kind: .execution, message: message)
    }

    public var description: String { message }
}
