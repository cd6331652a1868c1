import KafkaModel
import KafkaProtocol
import Logging
import NIOCore

/// A request as the handlers see it: who sent it and at which version.
struct RequestContext: Sendable {
    var header: RequestHeader
    var connection: ConnectionInfo
    /// This request's turn on its connection; ending it lets the next request start.
    var turn: Turn
    var version: Int16 { header.requestApiVersion }
}

extension KafkaServer {
    /// Turns one request frame into its answer. A request that cannot be parsed, or names an API or
    /// version this broker does not serve, closes its connection (as Kafka does); an ApiVersions
    /// request at an unknown version gets the KIP-511 answer instead, so clients can retry lower.
    func process(_ frame: ByteBuffer, connection: ConnectionInfo, turn: Turn) async -> RequestOutcome {
        var body = frame
        let header: RequestHeader
        do {
            header = try RequestHeader.read(from: &body)
        } catch {
            return .close(reason: "unreadable request header: \(error)")
        }
        guard let key = header.apiKey, let supported = SupportedApis.range(key) else {
            return .close(reason: "unknown or unsupported API key \(header.requestApiKey) (client \(header.clientId ?? "-"))")
        }
        if ![.leaderAndIsr, .updateMetadata, .stopReplica, .controlledShutdown].contains(key) { await ready.waitUntilEnded() }
        let context = RequestContext(header: header, connection: connection, turn: turn)
        if ApiVersionsResponse.needsUnsupportedVersionAnswer(header, supportedVersions: supported) {
            return .respond(ApiVersionsResponse.unsupportedVersionFrame(for: header, supportedVersions: supported))
        }
        guard supported.contains(header.requestApiVersion) else {
            return .close(reason: "\(key) v\(header.requestApiVersion) is not supported (\(supported))")
        }
        switch key {
        case .apiVersions: return await answer(ApiVersionsRequest.self, context, &body) { _ in self.apiVersions() }
        case .metadata: return await answer(MetadataRequest.self, context, &body) { await self.metadata($0, context) }
        case .produce: return await decoding(ProduceRequest.self, context, &body) { await self.produceOutcome($0, context) }
        case .fetch: return await decoding(FetchRequest.self, context, &body) { .respondParts(await self.fetch($0, context)) }
        case .listOffsets: return await answer(ListOffsetsRequest.self, context, &body) { await self.listOffsets($0, context) }
        case .createTopics: return await answer(CreateTopicsRequest.self, context, &body) { await self.createTopics($0, context) }
        case .deleteTopics: return await answer(DeleteTopicsRequest.self, context, &body) { await self.deleteTopics($0, context) }
        case .createPartitions:
            return await answer(CreatePartitionsRequest.self, context, &body) { await self.createPartitions($0, context) }
        case .deleteRecords: return await answer(DeleteRecordsRequest.self, context, &body) { await self.deleteRecords($0) }
        case .initProducerId: return await answer(InitProducerIdRequest.self, context, &body) { await self.initProducerId($0) }
        case .offsetForLeaderEpoch:
            return await answer(OffsetForLeaderEpochRequest.self, context, &body) { self.offsetForLeaderEpoch($0) }
        case .findCoordinator:
            return await answer(FindCoordinatorRequest.self, context, &body) { await self.findCoordinator($0, context) }
        case .joinGroup: return await answer(JoinGroupRequest.self, context, &body) { await self.joinGroup($0, context) }
        case .syncGroup: return await answer(SyncGroupRequest.self, context, &body) { await self.syncGroup($0, context) }
        case .heartbeat: return await answer(HeartbeatRequest.self, context, &body) { await self.heartbeat($0, context) }
        case .leaveGroup: return await answer(LeaveGroupRequest.self, context, &body) { await self.leaveGroup($0, context) }
        case .offsetCommit: return await answer(OffsetCommitRequest.self, context, &body) { await self.offsetCommit($0, context) }
        case .offsetFetch: return await answer(OffsetFetchRequest.self, context, &body) { await self.offsetFetch($0, context) }
        case .listGroups: return await answer(ListGroupsRequest.self, context, &body) { await self.listGroups($0, context) }
        case .describeGroups:
            return await answer(DescribeGroupsRequest.self, context, &body) { await self.describeGroups($0, context) }
        case .deleteGroups: return await answer(DeleteGroupsRequest.self, context, &body) { await self.deleteGroups($0, context) }
        case .offsetDelete: return await answer(OffsetDeleteRequest.self, context, &body) { await self.offsetDelete($0, context) }
        case .describeConfigs:
            return await answer(DescribeConfigsRequest.self, context, &body) { await self.describeConfigs($0, context) }
        case .alterConfigs: return await answer(AlterConfigsRequest.self, context, &body) { await self.alterConfigs($0, context) }
        case .incrementalAlterConfigs:
            return await answer(IncrementalAlterConfigsRequest.self, context, &body) { await self.incrementalAlterConfigs($0, context) }
        case .leaderAndIsr: return await answer(LeaderAndIsrRequest.self, context, &body) { await self.leaderAndIsr($0, context) }
        case .updateMetadata:
            return await answer(UpdateMetadataRequest.self, context, &body) { await self.updateMetadata($0, context) }
        case .stopReplica: return await answer(StopReplicaRequest.self, context, &body) { await self.stopReplica($0, context) }
        case .controlledShutdown:
            return await answer(ControlledShutdownRequest.self, context, &body) { await self.controlledShutdown($0) }
        case .electLeaders: return await answer(ElectLeadersRequest.self, context, &body) { await self.electLeaders($0, context) }
        default:
            return .close(reason: "\(key) has no handler")
        }
    }

    /// Decodes the body and hands it to `handle`; a body that does not parse closes the connection.
    func decoding<Request: KafkaRequest>(
        _ type: Request.Type, _ context: RequestContext, _ body: inout ByteBuffer,
        _ handle: (Request) async -> RequestOutcome
    ) async -> RequestOutcome {
        let request: Request
        do {
            request = try Request.decode(from: &body, version: context.version)
        } catch {
            return .close(reason: "unparseable \(Request.apiKey) v\(context.version) from \(context.connection.remote): \(error)")
        }
        return await handle(request)
    }

    /// Decodes the body, runs the handler, encodes the answer in the request's version.
    func answer<Request: KafkaRequest>(
        _ type: Request.Type, _ context: RequestContext, _ body: inout ByteBuffer,
        _ handle: (Request) async -> Request.Response
    ) async -> RequestOutcome {
        await decoding(type, context, &body) { request in
            .respond(responseFrame(await handle(request), context))
        }
    }

    /// A whole response frame in the request's version.
    func responseFrame<Response: KafkaResponse>(_ response: Response, _ context: RequestContext) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.writeKafkaResponse(response, version: context.version, correlationId: context.header.correlationId)
        return frame
    }

    func apiVersions() -> ApiVersionsResponse {
        ApiVersionsResponse(
            errorCode: 0,
            apiKeys: SupportedApis.ranges.keys.sorted { $0.rawValue < $1.rawValue }.map { key in
                let range = SupportedApis.ranges[key]!
                return ApiVersionsResponse.ApiVersion(apiKey: key.rawValue, minVersion: range.lowerBound, maxVersion: range.upperBound)
            })
    }
}
