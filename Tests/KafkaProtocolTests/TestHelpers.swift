import KafkaProtocol
import NIOCore

/// A buffer holding the bytes of a hex string, for golden bytes written out by hand: whitespace is
/// ignored, and so is the rest of a line after "#".
func hexBuffer(_ hex: String) -> ByteBuffer {
    ByteBuffer(bytes: hexBytes(hex))
}

func hexBytes(_ hex: String) -> [UInt8] {
    let uncommented = hex.split(separator: "\n").map { $0.prefix { $0 != "#" } }.joined()
    let digits = Array(uncommented.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { index in
        guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else {
            preconditionFailure("not hex: \(digits[index...index + 1])")
        }
        return byte
    }
}

extension ByteBuffer {
    var hex: String { readableBytesView.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Reads a request frame as a broker does: size, header, body of the header's API at its version.
func decodeRequestFrame<Request: KafkaRequest>(
    _ frame: ByteBuffer,
    as type: Request.Type
) throws -> (header: RequestHeader, body: Request) {
    var buffer = frame
    guard let payload = try KafkaFrameDecoder().nextFrame(from: &buffer) else {
        throw ProtocolError(.truncated, "frame")
    }
    var rest = payload
    let header = try RequestHeader.read(from: &rest)
    let body = try Request.decode(from: &rest, version: header.requestApiVersion)
    guard rest.readableBytes == 0, buffer.readableBytes == 0 else {
        throw ProtocolError(.invalidLength, "\(rest.readableBytes) bytes left after the body")
    }
    return (header, body)
}

/// Reads a response frame as a client does.
func decodeResponseFrame<Response: KafkaResponse>(
    _ frame: ByteBuffer,
    as type: Response.Type,
    version: Int16
) throws -> (header: ResponseHeader, body: Response) {
    var buffer = frame
    guard var payload = try KafkaFrameDecoder().nextFrame(from: &buffer) else {
        throw ProtocolError(.truncated, "frame")
    }
    let header = try ResponseHeader.read(from: &payload, apiKey: Response.apiKey, apiVersion: version)
    let body = try Response.decode(from: &payload, version: version)
    guard payload.readableBytes == 0, buffer.readableBytes == 0 else {
        throw ProtocolError(.invalidLength, "\(payload.readableBytes) bytes left after the body")
    }
    return (header, body)
}

func requestFrame<Request: KafkaRequest>(
    _ request: Request, version: Int16, correlationId: Int32, clientId: String? = "kafka-python"
) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeKafkaRequest(request, version: version, correlationId: correlationId, clientId: clientId)
    return buffer
}

func responseFrame<Response: KafkaResponse>(_ response: Response, version: Int16, correlationId: Int32) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeKafkaResponse(response, version: version, correlationId: correlationId)
    return buffer
}
