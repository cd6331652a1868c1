import ArgumentParser
import KafkaStorage

/// `odradek dump-log`, Kafka's `kafka-dump-log.sh`: prints segments and indexes from disk.
struct DumpLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-log",
        abstract: "Print the contents of log segments, offset indexes and time indexes.")

    @Option(name: .customLong("files"), help: "REQUIRED: comma-separated list of data and index files to be dumped.")
    var files: String

    @Flag(name: .customLong("print-data-log"), help: "Print the messages' keys and payloads (implies --deep-iteration).")
    var printDataLog = false

    @Flag(name: .customLong("deep-iteration"), help: "Print one line per record, decompressing batches.")
    var deepIteration = false

    @Option(name: .customLong("max-bytes"), help: "Limit the amount of total batches read in bytes.")
    var maxBytes = Int(Int32.max)

    @Option(name: .customLong("max-message-size"), help: "Size of largest message.")
    var maxMessageSize = 5 * 1024 * 1024

    func run() throws {
        var options = LogDump.Options()
        options.printDataLog = printDataLog
        options.deepIteration = deepIteration
        options.maxBytes = maxBytes
        options.maxMessageSize = maxMessageSize
        let dump = LogDump(options: options) { print($0) }
        for file in files.split(separator: ",") {
            do {
                try dump.dump(path: String(file))
            } catch {
                throw ValidationError("cannot dump \(file): \(error)")
            }
        }
    }
}
