import Foundation

/// Timing helpers: every figure is the median of several runs, and where a reference exists the
/// ratio is taken run by run, so a machine that drifts in speed moves both sides of it.
enum Measure {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = now()
        try body()
        return now() - start
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func gbps(bytes: Int, seconds: Double) -> Double { Double(bytes) / seconds / 1e9 }

    static func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
}

/// One row of the report: a throughput for the subject and, when there is one, for its reference.
struct Row {
    var name: String
    var subjectGBps: [Double]
    var referenceGBps: [Double] = []
    var referenceName = ""
    var goal = ""

    func print() {
        var line = "\(name): median \(Measure.format(Measure.median(subjectGBps))) GB/s over \(subjectGBps.count) runs"
        line += " (min \(Measure.format(subjectGBps.min() ?? 0)), max \(Measure.format(subjectGBps.max() ?? 0)))"
        if !referenceGBps.isEmpty {
            let ratios = zip(subjectGBps, referenceGBps).map { $0 / $1 }
            line += "; \(referenceName) median \(Measure.format(Measure.median(referenceGBps))) GB/s"
            line += "; ratio median \(Measure.format(Measure.median(ratios))) (min \(Measure.format(ratios.min() ?? 0)), max \(Measure.format(ratios.max() ?? 0)))"
        }
        if !goal.isEmpty { line += "; goal \(goal)" }
        Swift.print(line)
    }
}
