import ArgumentParser
import KafkaClient

/// `odradek consumer-groups`, Kafka's `kafka-consumer-groups.sh`: the same options, output and messages,
/// except that every error exits 1. The arguments are read as Kafka's tool reads them (`--state` takes
/// an optional value), so they are passed through to `ConsumerGroupCommand.Options.parse`.
struct ConsumerGroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consumer-groups",
        abstract: "List all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.")

    @Argument(parsing: .captureForPassthrough, help: "kafka-consumer-groups.sh options (see --help).")
    var arguments: [String] = []

    static let usage = """
        This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.
        Option                                  Description
        ------                                  -----------
        --all-groups                            Apply to all consumer groups.
        --all-topics                            Consider all topics assigned to a group in the `reset-offsets` process.
        --bootstrap-server <server to connect   REQUIRED: The server(s) to connect to.
          to>
        --by-duration <duration>                Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'
        --command-config <command config        Property file containing configs to be passed to Admin Client (not used).
          property file>
        --delete                                Pass in groups to delete topic partition offsets and ownership information over the entire consumer group.
        --delete-offsets                        Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics.
        --describe                              Describe consumer group and list offset lag (number of messages not yet processed) related to given group.
        --dry-run                               Only show results without executing changes on Consumer Groups. Supported operations: reset-offsets.
        --execute                               Execute operation. Supported operations: reset-offsets.
        --export                                Export operation execution to a CSV file. Supported operations: reset-offsets.
        --format <text|json>                    Output format of --list and --describe (json: an array of objects with the columns' fields).
        --from-file <path to CSV file>          Reset offsets to values defined in CSV file (not supported yet).
        --group <consumer group>                The consumer group we wish to act on. Repeat for several groups.
        --help                                  Print usage information.
        --list                                  List all consumer groups.
        --members                               Describe members of the group. This option may be used with '--describe' and '--bootstrap-server' options only.
        --offsets                               Describe the group and list all topic partitions in the group along with their offset lag. This is the default sub-action.
        --reset-offsets                         Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive.
        --shift-by <Long: number-of-offsets>    Reset offsets shifting current offset by 'n', where 'n' can be positive or negative.
        --state [String]                        When specified with '--describe', includes the state of the group. When specified with '--list', it displays the state of all groups. It can also be used to list groups with specific states.
        --timeout <Long: timeout (ms)>          The timeout that can be set for some use cases. (default: 5000)
        --to-current                            Reset offsets to current offset.
        --to-datetime <datetime>                Reset offsets to offset from datetime. Format: 'YYYY-MM-DDTHH:mm:SS.sss'
        --to-earliest                           Reset offsets to earliest offset.
        --to-latest                             Reset offsets to latest offset.
        --to-offset <Long: offset>              Reset offsets to a specific offset.
        --topic <topic>                         The topic whose consumer group information should be deleted or topic whose should be included in the reset offset process. In `reset-offsets` case, partitions can be specified using this format: `topic1:0,1,2`.
        --type [String]                         When specified with '--list', it displays the types of all the groups.
        --verbose                               Provide additional information, if any, when describing the group.
        """

    func run() async throws {
        let options: ConsumerGroupCommand.Options
        do {
            options = try ConsumerGroupCommand.Options.parse(arguments)
            if arguments.isEmpty || options.help {
                printToStandardError(Self.usage)
                throw ExitCode(arguments.isEmpty ? 1 : 0)
            }
            try options.validate()
        } catch let failure as ConsumerGroupCommand.Failure {
            printToStandardError(failure.message + "\n" + Self.usage)
            throw ExitCode(1)
        }
        let sink = ConsumerGroupCommand.Sink(
            out: { print($0, terminator: "") },
            err: { printToStandardError(String($0.dropLast(($0.hasSuffix("\n") ? 1 : 0)))) })
        var succeeded = false
        do {
            let admin = try KafkaAdmin(bootstrapServers: options.bootstrapServer ?? "")
            do {
                succeeded = try await ConsumerGroupCommand.run(options, admin: admin, sink: sink)
            } catch {
                await admin.close()
                throw error
            }
            await admin.close()
        } catch let failure as ConsumerGroupCommand.Failure {
            print(ConsumerGroupCommand.text(failure), terminator: "")
        } catch {
            print(ConsumerGroupCommand.text(.execution("\(error)")), terminator: "")
        }
        if !succeeded { throw ExitCode(1) }
    }
}
