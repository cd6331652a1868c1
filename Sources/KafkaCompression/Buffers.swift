// Output-buffer plumbing shared by the codecs. Arrays are created with uninitialized capacity so the
// C libraries write straight into the result: no zero fill, no staging copy.

func copyBytes(_ input: UnsafeRawBufferPointer) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: input.count) { buffer, count in
        if input.count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: input) }
        count = input.count
    }
}

/// C libraries reject a null pointer even with length 0, and an empty buffer may have no base address.
@inline(__always)
func withNonNullBase<R>(_ input: UnsafeRawBufferPointer, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
    if let base = input.baseAddress { return try body(base) }
    var zero: UInt8 = 0
    return try withUnsafeBytes(of: &zero) { try body($0.baseAddress!) }
}

/// Compressors write into a worst-case-sized array; when most of it went unused, hand back a tight copy so
/// a retained batch does not pin the bound. Only done when the output is small next to the input, so the
/// copy is cheap compared with the compression that produced it.
func trimmed(_ bytes: [UInt8]) -> [UInt8] {
    let unused = bytes.capacity - bytes.count
    guard unused >= 256 * 1024, bytes.count <= bytes.capacity / 4 else { return bytes }
    return bytes.withUnsafeBytes { copyBytes($0) }
}

/// Runs a streaming decoder over an output array that starts at `initialCapacity` (an estimate or a proven
/// bound) and doubles when full, but never past `limit + 1` bytes: filling `limit + 1` bytes proves the output
/// too large without ever holding more than that.
///
/// `fill` writes into the buffer from `count` on, advances `count`, and returns true at the end of the
/// stream or false when the buffer is full. It must throw rather than return false without filling.
func decodeGrowing(
    _ codec: CompressionCodec,
    initialCapacity: Int,
    limit: Int,
    fill: (UnsafeMutableRawBufferPointer, inout Int) throws -> Bool
) throws -> [UInt8] {
    let ceiling = limit == Int.max ? Int.max : limit + 1
    var capacity = max(1, min(initialCapacity, ceiling))
    var previous: [UInt8] = []
    while true {
        var finished = false
        let output = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            if !previous.isEmpty {
                previous.withUnsafeBytes { raw.copyMemory(from: $0) }
                count = previous.count
                previous = []  // release the old storage before decoding on
            }
            finished = try fill(raw, &count)
        }
        if output.count > limit { throw CompressionError.tooLarge(codec, limit) }
        if finished { return output }
        if capacity >= ceiling { throw CompressionError.tooLarge(codec, limit) }
        previous = output
        capacity = capacity > ceiling / 2 ? ceiling : capacity * 2
    }
}

/// Saturating sum for size bounds computed from untrusted headers.
@inline(__always)
func addSaturating(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : sum
}

@inline(__always)
func multiplySaturating(_ a: Int, _ b: Int) -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? Int.max : product
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func littleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
