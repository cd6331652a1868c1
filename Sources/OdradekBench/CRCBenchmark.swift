import KafkaRecords

/// CRC-32C over a 64 MiB buffer that stays in cache-friendly reach of memory bandwidth.
enum CRCBenchmark {
    static func run(runs: Int) {
        let size = 64 << 20
        let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var hardware: [Double] = []
        var software: [Double] = []
        var sink: UInt32 = 0
        data.withUnsafeBytes { bytes in
            sink ^= CRC32C.checksum(bytes)  // warm-up
            for _ in 0..<runs {
                let t = Measure.seconds { for _ in 0..<4 { sink ^= CRC32C.checksum(bytes) } }
                hardware.append(Measure.gbps(bytes: 4 * size, seconds: t))
                let s = Measure.seconds { sink ^= CRC32C.softwareChecksum(bytes) }
                software.append(Measure.gbps(bytes: size, seconds: s))
            }
        }
        Row(
            name: "crc32c (\(CRC32C.usesHardware ? "sse4.2" : "software") path)", subjectGBps: hardware,
            referenceGBps: software, referenceName: "table fallback", goal: ">= 5 GB/s"
        ).print()
        if sink == 0x1234_5678 { print("") }  // keeps the work observable
    }
}
