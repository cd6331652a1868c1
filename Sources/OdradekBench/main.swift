import Foundation

// Benchmarks of the foundation and coordination: storage append and read, recovery, CRC-32C, the
// codecs, controller failover and mass leader election.
// Usage: odradek-bench [crc|codecs|append|read|recovery|coordination|all]... [--runs N] [--dir PATH]
// Results and the exact commands that produced them are kept in BENCHMARKS.md.

struct Options {
    var runs = 5
    var directory = FileManager.default.temporaryDirectory.appendingPathComponent("odradek-bench").path
    var names: Set<String> = []

    init(_ arguments: [String]) {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--runs": runs = rest.popFirst().flatMap { Int($0) } ?? runs
            case "--dir": directory = rest.popFirst() ?? directory
            default: names.insert(argument)
            }
        }
        if names.isEmpty { names = ["all"] }
    }

    func wanted(_ name: String) -> Bool { names.contains("all") || names.contains(name) }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
print("odradek-bench: \(options.runs) runs each, data directory \(options.directory)")
if options.wanted("crc") { CRCBenchmark.run(runs: options.runs) }
if options.wanted("codecs") { try CodecBenchmark.run(runs: options.runs) }
try StorageBenchmark.run(runs: options.runs, directory: options.directory, which: options.wanted)
if options.wanted("coordination") { try await CoordinationBenchmark.run(runs: options.runs, partitionCounts: [1000, 10000]) }
