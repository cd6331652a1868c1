import CCRC32C

/// CRC-32C (Castagnoli), the checksum of record batch v2. Uses the SSE4.2 instruction when the CPU
/// has it and a table otherwise; the choice is made once, at run time.
public enum CRC32C {
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return odradek_crc32c(crc, base, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// The table implementation alone, for tests that compare both paths.
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return odradek_crc32c_software(crc, base, bytes.count)
    }

    public static var usesHardware: Bool { odradek_crc32c_uses_hardware() != 0 }
}
