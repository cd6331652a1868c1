#!/usr/bin/env python3
"""Generates Kafka's request/response message structs for the KafkaProtocol target.

Usage: python3 tools/codegen/generate.py /path/to/kafka-message-specs

Reads Kafka's JSON message specs (apache/kafka 3.8.0, clients/src/main/resources/common/message) for the
API keys in API_KEYS and the two headers, and writes:

  Sources/KafkaProtocol/Generated/<Name>.swift     one struct per message, nested structs inside it
  Sources/KafkaProtocol/Generated/ApiKey.swift     the ApiKey enum and the list of all message types
  Tests/KafkaProtocolTests/Generated/Samples.swift a populated value of every message at every version

The generated code calls the hand-written primitives in Sources/KafkaProtocol/ByteBuffer+KafkaPrimitives.swift
and KafkaMessage.swift; it contains no encoding logic of its own beyond "which field, in which versions".
Python 3 standard library only. The output is committed, so building the project never needs the specs.
"""

import json
import os
import re
import sys
import textwrap

# The APIs to generate, by Kafka's API key; the spec's "apiKey" is checked against the file found.
API_KEYS = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 4: "LeaderAndIsr", 5: "StopReplica",
    6: "UpdateMetadata", 7: "ControlledShutdown", 8: "OffsetCommit", 9: "OffsetFetch", 10: "FindCoordinator",
    11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups",
    17: "SaslHandshake", 18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics", 21: "DeleteRecords",
    22: "InitProducerId", 23: "OffsetForLeaderEpoch", 24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn",
    26: "EndTxn", 27: "WriteTxnMarkers", 28: "TxnOffsetCommit", 32: "DescribeConfigs", 33: "AlterConfigs",
    35: "DescribeLogDirs", 36: "SaslAuthenticate", 37: "CreatePartitions", 42: "DeleteGroups", 43: "ElectLeaders",
    44: "IncrementalAlterConfigs", 45: "AlterPartitionReassignments", 46: "ListPartitionReassignments",
    47: "OffsetDelete", 56: "AlterPartition", 60: "DescribeCluster", 61: "DescribeProducers",
}
HEADERS = ["RequestHeader", "ResponseHeader"]
KAFKA_VERSION = "3.8.0"
REGENERATE = "python3 tools/codegen/generate.py /path/to/kafka-message-specs"

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SOURCE_DIR = os.path.join(REPO, "Sources", "KafkaProtocol", "Generated")
TEST_DIR = os.path.join(REPO, "Tests", "KafkaProtocolTests", "Generated")

SCALARS = {  # spec type -> (Swift type, stem of the primitive's name: readKafka<stem>/writeKafka<stem>)
    "int8": ("Int8", "Integer"), "int16": ("Int16", "Integer"), "int32": ("Int32", "Integer"),
    "int64": ("Int64", "Integer"), "uint16": ("UInt16", "Integer"), "float64": ("Double", "Float64"),
    "bool": ("Bool", "Bool"), "uuid": ("KafkaUUID", "UUID"),
}
# Names a field must not take: Swift keywords (none of Kafka's do today) and the generated code's own locals.
RESERVED = {"default", "protocol", "internal", "public", "private", "static", "operator", "repeat", "return", "self",
            "struct", "class", "enum", "func", "init", "in", "is", "as", "let", "var", "where", "case", "extension",
            "import", "subscript", "true", "false", "nil", "if", "else", "for", "while", "switch", "do", "break",
            "continue", "guard", "defer", "catch", "throw", "throws", "try", "super", "inout"}


# MARK: - Reading the specs

def strip_comments(text):
    """Removes // comments (Kafka's JSON allows them), leaving // inside strings alone."""
    out, i, in_string = [], 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class Versions:
    """A spec version range: "3+", "1-4", "7" or "none". hi is None when open-ended."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text):
        text = (text or "none").strip()
        if text == "none":
            return None
        if text.endswith("+"):
            return Versions(int(text[:-1]), None)
        if "-" in text:
            lo, hi = text.split("-")
            return Versions(int(lo), int(hi))
        return Versions(int(text), int(text))

    def intersect(self, other):
        if other is None:
            return None
        lo = max(self.lo, other.lo)
        his = [h for h in (self.hi, other.hi) if h is not None]
        hi = min(his) if his else None
        return None if hi is not None and lo > hi else Versions(lo, hi)

    def covers(self, other):
        return self.lo <= other.lo and (self.hi is None or (other.hi is not None and other.hi <= self.hi))

    def __str__(self):
        if self.hi is None:
            return f"{self.lo}+"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"


def condition(versions, context):
    """A Swift test of `version` for `versions`, as short as the context's range allows. None = always."""
    if versions is None:
        return "false"
    if versions.covers(context):
        return None
    tests = []
    if versions.lo > context.lo:
        tests.append(f"version >= {versions.lo}")
    if versions.hi is not None and (context.hi is None or versions.hi < context.hi):
        tests.append(f"version <= {versions.hi}")
    return " && ".join(tests)


def lower_camel(name):
    swift = name[0].lower() + name[1:]
    assert swift not in RESERVED, f"field name {name} needs escaping"
    return swift


class Field:
    def __init__(self, spec, message):
        self.name = spec["name"]
        self.swift = lower_camel(self.name)
        self.type = spec["type"].strip()
        self.about = spec.get("about", "")
        self.versions = Versions.parse(spec["versions"])
        self.nullable = Versions.parse(spec.get("nullableVersions"))
        self.tagged = Versions.parse(spec.get("taggedVersions"))
        self.tag = spec.get("tag")
        self.default = spec.get("default")  # a string, but a few specs write a bare number or boolean
        if isinstance(self.default, bool):
            self.default = "true" if self.default else "false"
        elif self.default is not None:
            self.default = str(self.default)
        # Only RequestHeader.ClientId overrides this ("none": an int16-length string even in header v2).
        self.flexible_override = Versions.parse(spec["flexibleVersions"]) if "flexibleVersions" in spec else "inherit"
        self.is_array = self.type.startswith("[]")
        self.element = self.type[2:] if self.is_array else self.type
        self.is_struct = self.element not in SCALARS and self.element not in ("string", "bytes", "records")
        if self.is_struct:
            message.add_struct(self.element, spec.get("fields"))
        if self.tag is not None:
            assert self.tagged is not None and str(self.tagged) == str(self.versions), f"{self.name}: tagged range"
        if self.is_array and not self.is_struct:
            assert self.element not in ("bytes", "records"), f"{self.name}: arrays of {self.element} unsupported"

    @property
    def optional(self):
        return self.nullable is not None and self.nullable.intersect(self.versions) is not None

    def element_swift(self):
        if self.is_struct:
            return self.element
        if self.element == "string":
            return "String"
        if self.element == "bytes":
            return "[UInt8]"
        if self.element == "records":
            return "ByteBuffer"
        return SCALARS[self.element][0]

    def swift_type(self):
        base = f"[{self.element_swift()}]" if self.is_array else self.element_swift()
        return base + "?" if self.optional or self.element == "records" else base

    def default_value(self):
        d = self.default
        if self.is_array:
            assert d in (None, "null"), f"{self.name}: array default {d}"
            return "nil" if d == "null" else "[]"
        if self.is_struct:
            assert d is None, f"{self.name}: struct default"
            return f"{self.element}()"
        if self.element == "records" or d == "null":
            assert self.element == "records" or self.optional, f"{self.name}: null default, not nullable"
            return "nil"
        if self.element == "string":
            return json.dumps(d or "")
        if self.element == "bytes":
            assert not d, f"{self.name}: bytes default"
            return "[]"
        if self.element == "bool":
            return d if d in ("true", "false") else "false"
        if self.element == "uuid":
            assert not d, f"{self.name}: uuid default"
            return ".zero"
        if self.element == "float64":
            return repr(float(d)) if d else "0"
        return str(int(d, 0)) if d else "0"

    def compact(self, flexible):
        """The Swift expression for this field's `compact:` argument."""
        return "false" if self.flexible_override is None else flexible


class Struct:
    def __init__(self, name, fields_spec, message):
        self.name = name
        self.fields = [Field(f, message) for f in fields_spec]
        self.context = None  # the versions this struct is read and written in, set by Message.resolve


class Message:
    def __init__(self, spec, file_name):
        self.spec, self.file_name = spec, file_name
        self.name = spec["name"]
        self.kind = spec["type"]  # request, response or header
        self.api_key = spec.get("apiKey")
        self.valid = Versions.parse(spec["validVersions"])
        self.flexible = Versions.parse(spec.get("flexibleVersions"))
        self.structs = {}  # name -> Struct, nested in the message struct in first-use order
        self.pending = {cs["name"]: cs["fields"] for cs in spec.get("commonStructs", [])}
        self.root = Struct(self.name, spec["fields"], self)
        self.resolve(self.root, self.valid)

    def add_struct(self, name, fields_spec):
        if name in self.structs:
            assert not fields_spec, f"{self.name}: struct {name} defined twice"
            return
        fields_spec = fields_spec if fields_spec is not None else self.pending.pop(name, None)
        assert fields_spec is not None, f"{self.name}: unknown struct {name}"
        self.structs[name] = None  # reserve the name (and its order) before the nested fields
        self.structs[name] = Struct(name, fields_spec, self)

    def resolve(self, struct, context):
        """Sets each struct's version context: the union (hull) of the versions of the fields using it."""
        if struct.context is not None:
            lo = min(struct.context.lo, context.lo)
            hi = None if None in (struct.context.hi, context.hi) else max(struct.context.hi, context.hi)
            context = Versions(lo, hi)
            if str(context) == str(struct.context):
                return
        struct.context = context
        for field in struct.fields:
            if field.is_struct:
                inner = field.versions.intersect(context)
                if inner is not None:
                    self.resolve(self.structs[field.element], inner)

    def check_array_elements(self):
        """Every element of an array must take at least one byte at every version the array exists in:
        the primitives refuse a count larger than the bytes left, so that a hostile count cannot make the
        reader allocate (or loop) without bound."""
        for struct in [self.root] + list(self.structs.values()):
            for field in struct.fields:
                if not (field.is_array and field.is_struct) or field.versions.intersect(struct.context) is None:
                    continue
                live = field.versions.intersect(struct.context)
                element = self.structs[field.element]
                for version in range(live.lo, (live.hi if live.hi is not None else self.valid.hi) + 1):
                    flexible = self.flexible is not None and version >= self.flexible.lo
                    at = Versions(version, version)
                    sized = [f for f in element.fields if f.versions and f.versions.intersect(at)]
                    assert flexible or sized, f"{self.name}.{field.name}: empty elements at v{version}"

    def closed(self, versions):
        """Open-ended ranges closed at the message's last valid version."""
        return Versions(versions.lo, versions.hi if versions.hi is not None else self.valid.hi)


# MARK: - Writing Swift

LINE_LENGTH = 120


def fit(indent, line):
    """One statement at `indent`, kept within LINE_LENGTH: a one-line `if c { s }` becomes a block, and a
    call's arguments move to their own line."""
    if len(indent) + len(line) <= LINE_LENGTH:
        return indent + line
    block = re.fullmatch(r"if (.*?) \{ (.*) \}", line)
    if block:
        return f"{indent}if {block.group(1)} {{\n{fit(indent + '    ', block.group(2))}\n{indent}}}"
    call = re.fullmatch(r"(.*?\w)\((.*)\)", line)
    if call:
        return f"{indent}{call.group(1)}(\n{indent}    {call.group(2)}\n{indent})"
    return indent + line


def doc_comment(text, indent):
    lines = textwrap.wrap(text, width=116 - len(indent)) or [""]
    return [f"{indent}/// {line}" for line in lines]


def field_doc(field):
    about = field.about.strip()
    if about and not about.endswith("."):
        about += "."
    notes = [f"Versions {field.versions}" if field.versions else "Unused"]
    if field.optional and str(field.nullable) != str(field.versions):
        notes.append(f"nullable in {field.nullable}")
    elif field.optional:
        notes.append("nullable")
    if field.tag is not None:
        notes.append(f"tag {field.tag}")
    return f"{about} ({', '.join(notes)}.)".strip()


class Emitter:
    def __init__(self, message):
        self.m = message

    def flexible_expr(self, context):
        """`flexible` in a struct read/written in `context`: a constant where the context decides it."""
        flex = self.m.flexible
        if flex is None or flex.intersect(context) is None:
            return "false", None
        if flex.covers(context):
            return "true", None
        return "flexible", f"let flexible = version >= {flex.lo}"

    def null_arg(self, f, ctx):
        """`, nullAllowed: <test>` where the field is nullable in some of its versions only."""
        if f.element == "records" and not f.optional:
            return ", nullAllowed: false"
        if not f.optional:
            return ""
        test = condition(f.nullable, f.versions.intersect(ctx))
        return f", nullAllowed: {test}" if test else ""

    def read_expr(self, f, ctx, compact, buffer="buffer"):
        """The expression reading field f (without `try`)."""
        null = self.null_arg(f, ctx)
        if f.is_array:
            fn = "readKafkaNullableArray" if f.optional else "readKafkaArray"
            return f"{buffer}.{fn}(of: {f.element_swift()}.self, version: version, compact: {compact}{null})"
        if f.is_struct:
            return f"{f.element}(from: &{buffer}, version: version)"
        if f.element in ("string", "bytes"):
            stem = "String" if f.element == "string" else "Bytes"
            return f"{buffer}.readKafka{'Nullable' if f.optional else ''}{stem}(compact: {compact}{null})"
        if f.element == "records":
            return f"{buffer}.readKafkaRecords(compact: {compact}{null})"
        swift, stem = SCALARS[f.element]
        return f"{buffer}.readKafkaInteger(as: {swift}.self)" if stem == "Integer" else f"{buffer}.readKafka{stem}()"

    def write_stmt(self, f, ctx, compact, buffer="buffer"):
        value = f"self.{f.swift}"
        null = self.null_arg(f, ctx)
        if f.is_array:
            fn = "writeKafkaNullableArray" if f.optional else "writeKafkaArray"
            return f"{buffer}.{fn}({value}, version: version, compact: {compact}{null})"
        if f.is_struct:
            return f"{value}.write(to: &{buffer}, version: version)"
        if f.element in ("string", "bytes"):
            stem = "String" if f.element == "string" else "Bytes"
            return f"{buffer}.writeKafka{'Nullable' if f.optional else ''}{stem}({value}, compact: {compact}{null})"
        if f.element == "records":
            return f"{buffer}.writeKafkaRecords({value}, compact: {compact}{null})"
        return f"{buffer}.writeKafka{SCALARS[f.element][1]}({value})"

    def struct_body(self, s, indent):
        """The members of struct s: fields, memberwise init, init(from:version:), write(to:version:)."""
        ctx = s.context
        i1, i2 = indent + "    ", indent + "        "
        live = [f for f in s.fields if f.versions is not None and f.versions.intersect(ctx) is not None]
        regular = [f for f in live if f.tag is None]
        tagged = sorted((f for f in live if f.tag is not None), key=lambda f: f.tag)
        flex, flex_decl = self.flexible_expr(ctx)

        out = []
        for f in s.fields:
            out += doc_comment(field_doc(f), i1)
            out.append(f"{i1}public var {f.swift}: {f.swift_type()}")
        if s.fields:
            out.append("")
            out.append(f"{i1}public init(")
            out.append(",\n".join(f"{i2}{f.swift}: {f.swift_type()} = {f.default_value()}" for f in s.fields))
            out.append(f"{i1}) {{")
            out += [f"{i2}self.{f.swift} = {f.swift}" for f in s.fields]
            out.append(f"{i1}}}")
        else:
            out.append(f"{i1}public init() {{}}")

        def versioned(test, stmt):
            return fit(i2, f"if {test} {{ {stmt} }}" if test else stmt)

        tag_ctx = self.m.flexible.intersect(ctx) if flex != "false" else None  # where tagged sections exist

        def if_flexible(body):  # the tagged-field section exists in flexible versions only
            inner = i2 if flex == "true" else i2 + "    "
            lines = [fit(inner + line[: len(line) - len(line.lstrip())], line.lstrip()) for line in body]
            return lines if flex == "true" else [f"{i2}if {flex} {{"] + lines + [f"{i2}}}"]

        # init(from:version:)
        out.append("")
        out.append(f"{i1}public init(from buffer: inout ByteBuffer, version: Int16) throws(ProtocolError) {{")
        out.append(f"{i2}self.init()")
        if flex_decl:
            out.append(f"{i2}{flex_decl}")
        for f in regular:
            read = f"self.{f.swift} = try {self.read_expr(f, ctx, f.compact(flex))}"
            out.append(versioned(condition(f.versions, ctx), read))
        if flex != "false" and not tagged:
            out += if_flexible(["try buffer.skipKafkaTaggedFields()"])
        elif flex != "false":
            body = ["try buffer.readKafkaTaggedFields { (tag, field) throws(ProtocolError) in", "    switch tag {"]
            for f in tagged:
                test = condition(f.versions, tag_ctx)
                where = f" where {test}" if test else ""
                body.append(f"    case {f.tag}{where}: self.{f.swift} = try {self.read_expr(f, ctx, 'true', 'field')}")
            body += ["    default: break  // an unknown tag: skipped", "    }", "}"]
            out += if_flexible(body)
        out.append(f"{i1}}}")

        # write(to:version:)
        out.append("")
        out.append(f"{i1}public func write(to buffer: inout ByteBuffer, version: Int16) {{")
        if flex_decl:
            out.append(f"{i2}{flex_decl}")
        for f in regular:
            out.append(versioned(condition(f.versions, ctx), self.write_stmt(f, ctx, f.compact(flex))))
        if flex != "false" and not tagged:
            out += if_flexible(["buffer.writeKafkaEmptyTaggedFields()"])
        elif flex != "false":
            body = ["var tagged = KafkaTaggedFields()"]
            for f in tagged:  # written only when not the default, in tag order
                tests = [t for t in (condition(f.versions, tag_ctx),) if t] + [f"self.{f.swift} != {f.default_value()}"]
                body.append(f"if {', '.join(tests)} {{")
                body.append(f"    tagged.add(tag: {f.tag}) {{ {self.write_stmt(f, ctx, 'true', '$0')} }}")
                body.append("}")
            body.append("buffer.writeKafkaTaggedFields(tagged)")
            out += if_flexible(body)
        out.append(f"{i1}}}")
        return out

    def file(self):
        m = self.m
        lines = [
            f"// Generated by tools/codegen/generate.py from Kafka {KAFKA_VERSION}'s {m.file_name}. Do not edit.",
            f"// Regenerate with: {REGENERATE}",
            "",
            "import NIOCore",
            "",
        ]
        closed = m.closed(m.valid)
        flex = f"flexible from v{m.flexible.lo}" if m.flexible else "never flexible"
        if m.kind == "header":
            lines.append(f"/// {m.name}, versions {closed.lo}-{closed.hi} ({flex}).")
            conformance = "KafkaMessage"
        else:
            api = API_KEYS[m.api_key]
            lines.append(f"/// {api} {m.kind} (API key {m.api_key}), versions {closed.lo}-{closed.hi} ({flex}).")
            conformance = "KafkaRequest" if m.kind == "request" else "KafkaResponse"
        lines.append(f"public struct {m.name}: {conformance} {{")
        if m.kind != "header":
            lines.append(f"    public static let apiKey = ApiKey.{lower_camel(API_KEYS[m.api_key])}")
            if m.kind == "request":
                lines.append(f"    public typealias Response = {API_KEYS[m.api_key]}Response")
        lines.append(f"    public static let validVersions: ClosedRange<Int16> = {closed.lo}...{closed.hi}")
        first = str(m.flexible.lo) if m.flexible else "nil"
        lines.append(f"    public static let firstFlexibleVersion: Int16? = {first}")
        lines.append("")
        lines += self.struct_body(m.root, "")
        for s in m.structs.values():
            assert s.context is not None, f"{m.name}.{s.name} is used in no version"
            lines.append("")
            lines.append(f"    public struct {s.name}: KafkaStruct {{")
            lines += self.struct_body(s, "    ")
            lines.append("    }")
        lines.append("}")
        return "\n".join(lines) + "\n"


# MARK: - Test samples

def sample_value(f, index, message):
    """A non-default Swift value for field f (index: its position, to vary values), derived from `seed`."""
    element = f.element
    if f.is_struct:
        one = f"{message.name}.{element}.sample(version: version, seed: seed &+ {index + 1})"
        two = f"{message.name}.{element}.sample(version: version, seed: seed &+ {index + 2})"
        return f"[{one}, {two}]" if f.is_array else one
    if element == "records":
        return f"ByteBuffer(bytes: [UInt8(truncatingIfNeeded: seed), {index}, 0, 1, 2])"
    if element == "bool":
        scalar = "false" if f.default_value() == "true" else "true"
    elif element == "uuid":
        scalar = f"KafkaUUID(mostSignificantBits: UInt64(seed) &+ {index + 1}, leastSignificantBits: 0xFEED)"
    elif element == "float64":
        scalar = f"Double(seed) + {index}.5"
    elif element == "string":
        scalar = f'"s\\(seed)-{index}-ü"'
    elif element == "bytes":
        scalar = f"[UInt8(truncatingIfNeeded: seed), {index}, 0xFF]"
    else:  # integers: 10...89, never a spec default (-1, 0, 1, 3, 2000, 60000, Int32.max, Int32.min)
        scalar = f"{SCALARS[element][0]}(truncatingIfNeeded: 10 &+ (seed &+ {index}) % 80)"
    return f"[{scalar}, {scalar}]" if f.is_array else scalar


def sample_struct(s, qualified, message):
    ctx = s.context
    out = [f"extension {qualified} {{",
           "    /// Every field this version has set to something other than its default; with an odd seed, the",
           "    /// fields nullable in this version are null instead.",
           "    static func sample(version: Int16, seed: Int) -> Self {"]
    live = [f for f in s.fields if f.versions is not None and f.versions.intersect(ctx) is not None]
    if not live:
        return out + ["        Self()", "    }", "}"]
    out.append("        var value = Self()")
    for index, f in enumerate(s.fields):
        if f not in live:
            continue
        versions = f.versions.intersect(ctx)
        value = sample_value(f, index, message)
        nullable = f.nullable.intersect(versions) if f.optional else None
        if nullable is not None:
            test = condition(nullable, versions)
            value = f"seed % 2 == 1{' && ' + test if test else ''} ? nil : {value}"
        test = condition(f.versions, ctx)
        stmt = f"value.{f.swift} = {value}"
        out.append(fit("        ", f"if {test} {{ {stmt} }}" if test else stmt))
    return out + ["        return value", "    }", "}"]


def samples_file(messages):
    lines = [
        f"// Generated by tools/codegen/generate.py from Kafka {KAFKA_VERSION}'s message specs. Do not edit.",
        f"// Regenerate with: {REGENERATE}",
        "",
        "import KafkaProtocol",
        "import NIOCore",
        "",
        "/// Every message type with its populated samples, for the round-trip and truncation tests.",
        "let allSampledMessageTypes: [any SampledMessage.Type] = [",
    ]
    lines += [f"    {m.name}.self," for m in messages]
    lines += ["]", "", "protocol SampledMessage: KafkaMessage {", "    /// Every field at its default.",
              "    static var defaults: Self { get }", "    static func sample(version: Int16, seed: Int) -> Self", "}",
              ""]
    for m in messages:
        lines.append(f"extension {m.name}: SampledMessage {{ static var defaults: Self {{ Self() }} }}")
    for m in messages:
        lines.append("")
        lines += sample_struct(m.root, m.name, m)
        for s in m.structs.values():
            lines.append("")
            lines += sample_struct(s, f"{m.name}.{s.name}", m)
    return "\n".join(lines) + "\n"


# MARK: - ApiKey

def api_key_file(messages):
    lines = [
        f"// Generated by tools/codegen/generate.py from Kafka {KAFKA_VERSION}'s message specs. Do not edit.",
        f"// Regenerate with: {REGENERATE}",
        "",
        "/// The APIs this build can parse, by Kafka's API key (`org.apache.kafka.common.protocol.ApiKeys`).",
        "/// Header versions and other rules are in ApiKey+Headers.swift.",
        "public enum ApiKey: Int16, Sendable, CaseIterable, CustomStringConvertible {",
    ]
    for key, name in sorted(API_KEYS.items()):
        lines.append(f"    case {lower_camel(name)} = {key}")
    lines += ["", "    /// Kafka's name for the API, e.g. \"ApiVersions\".", "    public var name: String {",
              "        switch self {"]
    lines += [f'        case .{lower_camel(n)}: "{n}"' for _, n in sorted(API_KEYS.items())]
    lines += ["        }", "    }", "", "    public var requestType: any KafkaRequest.Type {", "        switch self {"]
    lines += [f"        case .{lower_camel(n)}: {n}Request.self" for _, n in sorted(API_KEYS.items())]
    lines += ["        }", "    }", "", "    public var responseType: any KafkaResponse.Type {",
              "        switch self {"]
    lines += [f"        case .{lower_camel(n)}: {n}Response.self" for _, n in sorted(API_KEYS.items())]
    lines += ["        }", "    }", "", "    public var description: String { \"\\(name) (\\(rawValue))\" }", "}", "",
              "/// Every generated message: the headers, then each API's request and response.",
              "public let allMessageTypes: [any KafkaMessage.Type] = ["]
    lines += [f"    {m.name}.self," for m in messages]
    lines.append("]")
    return "\n".join(lines) + "\n"


# MARK: - Main

def load(spec_dir, file_name):
    with open(os.path.join(spec_dir, file_name), encoding="utf-8") as f:
        return json.loads(strip_comments(f.read()))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    spec_dir = sys.argv[1]
    files = HEADERS + [f"{name}{kind}" for _, name in sorted(API_KEYS.items()) for kind in ("Request", "Response")]
    messages = []
    for base in files:
        spec = load(spec_dir, base + ".json")
        assert spec["name"] == base, f"{base}.json names {spec['name']}"
        if spec["type"] != "header":
            expected = [k for k, n in API_KEYS.items() if base in (n + "Request", n + "Response")]
            assert spec["apiKey"] in expected, f"{base}.json has apiKey {spec['apiKey']}, expected {expected}"
        messages.append(Message(spec, base + ".json"))
        messages[-1].check_array_elements()

    for name in os.listdir(SOURCE_DIR) if os.path.isdir(SOURCE_DIR) else []:
        if name.endswith(".swift"):
            os.remove(os.path.join(SOURCE_DIR, name))
    for m in messages:
        write(os.path.join(SOURCE_DIR, m.name + ".swift"), Emitter(m).file())
    write(os.path.join(SOURCE_DIR, "ApiKey.swift"), api_key_file(messages))
    write(os.path.join(TEST_DIR, "Samples.swift"), samples_file(messages))
    print(f"wrote {len(messages)} messages to {os.path.relpath(SOURCE_DIR, REPO)}")


if __name__ == "__main__":
    main()
