import Foundation

// Benchmarks of the foundation: storage append and read, recovery, CRC-32C and the codecs.
// Usage: odradek-bench [crc|codecs|append|read|recovery|coordination|all] [--runs N] [--dir PATH]
// Results and the exact commands that produced them are kept in BENCHMARKS.md.

var arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    defer { arguments.removeSubrange(index...index + 1) }
    return arguments[index + 1]
}
let runs = Int(option("--runs") ?? "") ?? 5
let directory = option("--dir") ?? FileManager.default.temporaryDirectory.appendingPathComponent("odradek-bench").path
let which = Set(arguments.isEmpty ? ["all"] : arguments)
func wanted(_ name: String) -> Bool { which.contains("all") || which.contains(name) }

print("odradek-bench: \(runs) runs each, data directory \(directory)")
if wanted("crc") { CRCBenchmark.run(runs: runs) }
if wanted("codecs") { try CodecBenchmark.run(runs: runs) }
if wanted("coordination") { try await CoordinationBenchmark.run(runs: runs, partitionCounts: [1000, 10000]) }
