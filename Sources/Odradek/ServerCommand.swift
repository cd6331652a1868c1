import ArgumentParser
import Dispatch
import Foundation
import KafkaBroker
import KafkaConfig
import Logging

/// `odradek server CONFIG [--override key=value]...`, Kafka's `kafka-server-start.sh`: runs a broker
/// until SIGTERM or SIGINT, then shuts it down cleanly.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Start a broker from a server.properties file.")

    @Argument(help: "The server.properties file (Kafka's keys; see etc/server.properties).")
    var config: String

    @Option(name: .customLong("override"), help: ArgumentHelp("Override a property: key=value (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    func run() async throws {
        let brokerConfig: BrokerConfig
        let settings: BrokerSettings
        do {
            brokerConfig = try BrokerConfig.load(path: config, overrides: overrides)
            settings = try BrokerSettings(config: brokerConfig)
        } catch {
            FileHandle.standardError.write(Data("odradek server: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let level = ProcessInfo.processInfo.environment["ODRADEK_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "odradek")
        let signals = Self.terminationSignals()
        let server: KafkaServer
        do {
            server = try await KafkaServer.start(settings: settings, logger: logger)
        } catch {
            logger.critical("start-up failed: \(error)")
            FileHandle.standardError.write(Data("odradek server: start-up failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for await signal in signals {
            logger.info("received signal \(signal), shutting down")
            break
        }
        await server.shutdown(controlled: true)
    }

    /// SIGTERM and SIGINT as a stream, their default actions turned off so the broker can close cleanly.
    private static func terminationSignals() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let sources = SignalSources()
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.list.append(source)
        }
        continuation.onTermination = { _ in sources.list.forEach { $0.cancel() } }
        return stream
    }
}

/// Keeps the signal sources alive as long as the stream; touched only while setting up and at the end.
private final class SignalSources: @unchecked Sendable {
    var list: [any DispatchSourceSignal] = []
}
