import KafkaConfig
import Testing

@Suite("Java .properties parsing")
struct PropertiesFileTests {
    @Test("the three separators, and surrounding whitespace")
    func separators() throws {
        let parsed = try PropertiesFile.parse("a=1\nb: 2\nc 3\n  d  =  4  \ne\t:\t5\nf  =  = 6\n")
        #expect(parsed == ["a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "= 6"])
    }

    @Test("# and ! comments, blank lines, a key without value")
    func comments() throws {
        let parsed = try PropertiesFile.parse("# comment\n   ! also a comment\n\n   \nkey\nother=x # not a comment\n")
        #expect(parsed == ["key": "", "other": "x # not a comment"])
    }

    @Test("a trailing backslash continues the line; the next line's leading blanks are dropped")
    func continuation() throws {
        let parsed = try PropertiesFile.parse("list=a,\\\n    b,\\\n\t# c\nnext=1\n")
        #expect(parsed == ["list": "a,b,# c", "next": "1"])
    }

    @Test("an even number of trailing backslashes is an escaped backslash, not a continuation")
    func escapedBackslashAtEnd() throws {
        let parsed = try PropertiesFile.parse("path=C:\\\\dir\\\\\nnext=1\n")
        #expect(parsed == ["path": "C:\\dir\\", "next": "1"])
    }

    @Test("a comment line ending in a backslash does not continue")
    func commentDoesNotContinue() throws {
        let parsed = try PropertiesFile.parse("# comment \\\nkey=value\n")
        #expect(parsed == ["key": "value"])
    }

    @Test("escapes: \\t \\n \\\\ \\uXXXX, and an escaped separator in a key")
    func escapes() throws {
        let parsed = try PropertiesFile.parse("tab=a\\tb\nnl=a\\nb\nslash=a\\\\b\nuni=caf\\u00e9\nodd\\=key\\:x=v\nsp\\ ace=1\nkept=x\\ \n")
        #expect(parsed["tab"] == "a\tb")
        #expect(parsed["nl"] == "a\nb")
        #expect(parsed["slash"] == "a\\b")
        #expect(parsed["uni"] == "café")
        #expect(parsed["odd=key:x"] == "v")
        #expect(parsed["sp ace"] == "1")
        // An escaped trailing space is kept; only unescaped blanks are trimmed.
        #expect(parsed["kept"] == "x ")
    }

    @Test("CRLF and lone CR line endings")
    func lineEndings() throws {
        #expect(try PropertiesFile.parse("a=1\r\nb=2\rc=3") == ["a": "1", "b": "2", "c": "3"])
    }

    @Test("the last occurrence of a key wins; entries keep every occurrence with its line")
    func duplicates() throws {
        #expect(try PropertiesFile.parse("a=1\na=2\n") == ["a": "2"])
        let entries = try PropertiesFile.entries("\n# x\na=1\na=2\n")
        #expect(entries.map(\.line) == [3, 4])
    }

    @Test("malformed \\u escape and a missing key are errors naming the line")
    func errors() {
        #expect { try PropertiesFile.parse("ok=1\nbad=\\u12\n") } throws: { error in
            (error as? ConfigError)?.message.contains("line 2") == true
        }
        #expect { try PropertiesFile.parse("=value\n") } throws: { error in
            (error as? ConfigError)?.kind == .syntax
        }
    }

    @Test("--override key=value splits at the first '='")
    func overrides() throws {
        let (key, value) = try PropertiesFile.parseOverride("listeners=PLAINTEXT://h:1=2")
        #expect(key == "listeners")
        #expect(value == "PLAINTEXT://h:1=2")
        #expect(throws: ConfigError.self) { try PropertiesFile.parseOverride("novalue") }
        #expect(throws: ConfigError.self) { try PropertiesFile.parseOverride("key=") }
        #expect(throws: ConfigError.self) { try PropertiesFile.parseOverride("=1") }
    }

    @Test("a missing file is an io error naming the path")
    func missingFile() {
        #expect { try PropertiesFile.load(path: "/nonexistent/server.properties") } throws: { error in
            let error = error as? ConfigError
            return error?.kind == .io && error?.message.contains("/nonexistent/server.properties") == true
        }
    }
}
