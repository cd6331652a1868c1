import Foundation

/// Java's `.properties` format, as `java.util.Properties.load` reads it: `#` and `!` comment lines,
/// `key=value`, `key: value` and `key value`, a trailing backslash continuing a line, and the escapes
/// `\t \n \r \f \\ \uXXXX` (a backslash before any other character keeps that character). Unlike Java,
/// whitespace around values is trimmed (Kafka trims when it parses them anyway) and a line without a
/// key is an error.
public enum PropertiesFile {
    /// One `key=value` pair with the line it starts on.
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: String
        public var line: Int
    }

    /// The pairs of `text` in order; a key that repeats keeps every occurrence.
    public static func entries(_ text: String) throws(ConfigError) -> [Entry] {
        var result: [Entry] = []
        let lines = naturalLines(text)
        var index = 0
        while index < lines.count {
            let first = lines[index]
            index += 1
            var logical = Array(first.scalars.drop(while: isBlank))
            // Comment marks count only at the start of a line, not of a continuation.
            if logical.isEmpty || logical[0] == "#" || logical[0] == "!" { continue }
            while endsInContinuation(logical) {
                logical.removeLast()
                guard index < lines.count else { break }
                logical += lines[index].scalars.drop(while: isBlank)
                index += 1
            }
            result.append(try split(logical, line: first.number))
        }
        return result
    }

    /// The pairs of `text`, the last occurrence of a key winning (as in Java).
    public static func parse(_ text: String) throws(ConfigError) -> [String: String] {
        var result: [String: String] = [:]
        for entry in try entries(text) { result[entry.key] = entry.value }
        return result
    }

    /// Reads and parses the file at `path`; errors start with the path.
    public static func load(path: String) throws(ConfigError) -> [String: String] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(.io, key: nil, "\(path): cannot read the file: \(error.localizedDescription)")
        }
        // Java reads properties as ISO-8859-1; UTF-8 is what files hold today, so try it first.
        guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
            throw ConfigError(.io, key: nil, "\(path): the file is not text")
        }
        do {
            return try parse(text)
        } catch {
            throw error.prefixed(path)
        }
    }

    /// One `--override key=value` argument (`kafka-server-start.sh`'s form); the value is taken as written.
    public static func parseOverride(_ argument: String) throws(ConfigError) -> (key: String, value: String) {
        guard let equals = argument.firstIndex(of: "=") else {
            throw ConfigError(.syntax, key: nil, "--override \(argument): expected key=value, e.g. --override num.partitions=3")
        }
        let key = String(argument[..<equals]).trimmingWhitespace()
        let value = String(argument[argument.index(after: equals)...]).trimmingWhitespace()
        guard !key.isEmpty else {
            throw ConfigError(.syntax, key: nil, "--override \(argument): the key before '=' is missing")
        }
        guard !value.isEmpty else {
            throw ConfigError(.syntax, key: key, "--override \(argument): missing value for key \(key)")
        }
        return (key, value)
    }

    // MARK: - Lines

    private struct NaturalLine {
        var scalars: [Unicode.Scalar]
        var number: Int
    }

    /// Splits on \n, \r and \r\n, numbering lines from 1.
    private static func naturalLines(_ text: String) -> [NaturalLine] {
        var lines: [NaturalLine] = []
        var current: [Unicode.Scalar] = []
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            if scalar == "\n" || scalar == "\r" {
                lines.append(NaturalLine(scalars: current, number: lines.count + 1))
                current = []
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(NaturalLine(scalars: current, number: lines.count + 1)) }
        return lines
    }

    private static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\u{0C}"
    }

    /// An odd number of trailing backslashes: the last one is not itself escaped.
    private static func endsInContinuation(_ scalars: [Unicode.Scalar]) -> Bool {
        var count = 0
        for scalar in scalars.reversed() {
            guard scalar == "\\" else { break }
            count += 1
        }
        return count % 2 == 1
    }

    // MARK: - Key and value

    /// The key ends at the first unescaped `=`, `:` or blank; blanks and one `=` or `:` follow it.
    private static func split(_ scalars: [Unicode.Scalar], line: Int) throws(ConfigError) -> Entry {
        var keyEnd = 0
        var valueStart = scalars.count
        var hasSeparator = false
        var escaped = false
        while keyEnd < scalars.count {
            let scalar = scalars[keyEnd]
            if !escaped && (scalar == "=" || scalar == ":") {
                valueStart = keyEnd + 1
                hasSeparator = true
                break
            }
            if !escaped && isBlank(scalar) {
                valueStart = keyEnd + 1
                break
            }
            escaped = scalar == "\\" ? !escaped : false
            keyEnd += 1
        }
        while valueStart < scalars.count {
            let scalar = scalars[valueStart]
            if isBlank(scalar) {
                valueStart += 1
            } else if !hasSeparator && (scalar == "=" || scalar == ":") {
                hasSeparator = true
                valueStart += 1
            } else {
                break
            }
        }
        let key = try unescape(scalars[0..<keyEnd], line: line)
        guard !key.isEmpty else {
            throw ConfigError(.syntax, key: nil, "line \(line): a value without a key; write key=value")
        }
        let value = try unescape(scalars[min(valueStart, scalars.count)...], line: line)
        return Entry(key: key, value: value, line: line)
    }

    /// Resolves escapes and drops trailing blanks that were not escaped.
    private static func unescape(_ scalars: ArraySlice<Unicode.Scalar>, line: Int) throws(ConfigError) -> String {
        var output: [Unicode.Scalar] = []
        var keptLength = 0
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            index += 1
            guard scalar == "\\" else {
                output.append(scalar)
                if !isBlank(scalar) { keptLength = output.count }
                continue
            }
            guard index < scalars.endIndex else { break }  // a lone backslash at the very end
            let escaped = scalars[index]
            index += 1
            switch escaped {
            case "t": output.append("\t")
            case "n": output.append("\n")
            case "r": output.append("\r")
            case "f": output.append("\u{0C}")
            case "u":
                let digits = scalars[index..<min(index + 4, scalars.endIndex)]
                guard digits.count == 4, let code = UInt32(String(String.UnicodeScalarView(digits)), radix: 16),
                    let decoded = Unicode.Scalar(code)
                else {
                    throw ConfigError(.syntax, key: nil, "line \(line): malformed \\uXXXX escape; write four hex digits")
                }
                output.append(decoded)
                index += 4
            default: output.append(escaped)
            }
            keptLength = output.count
        }
        return String(String.UnicodeScalarView(output[..<keptLength]))
    }
}
