#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A YCSB property set: Java `.properties` files loaded in order (later files win) and `-p`
/// overrides that win over every file. Remembers where each value came from for error
/// messages; unknown keys are kept for bindings to read.
public struct WorkloadProperties: Sendable, Equatable {
    /// One property value and where it was set.
    public struct Entry: Sendable, Equatable {
        public var value: String
        public var source: PropertySource
    }

    public private(set) var entries: [String: Entry] = [:]
    /// Keys in the order they were first set (for stable listings).
    public private(set) var keysInOrder: [String] = []

    public init() {}

    /// Properties from key/value pairs (sources marked as command line).
    public init(_ values: [String: String]) {
        for key in values.keys.sorted() { set(key, values[key]!, source: .commandLine) }
    }

    public subscript(key: String) -> String? { entries[key]?.value }

    /// Where `key` was set, or nil.
    public func source(of key: String) -> PropertySource? { entries[key]?.source }

    public mutating func set(_ key: String, _ value: String, source: PropertySource) {
        if entries[key] == nil { keysInOrder.append(key) }
        entries[key] = Entry(value: value, source: source)
    }

    /// `-P file`: loads a file's properties over the current ones.
    public mutating func load(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw WorkloadError.unreadable(file: path) }
        try load(text: String(decoding: data, as: UTF8.self), fileName: path)
    }

    /// Loads properties text (named `fileName` in errors) over the current ones.
    public mutating func load(text: String, fileName: String) throws {
        for (key, value, line) in try Self.parse(text, fileName: fileName) {
            set(key, value, source: .file(name: fileName, line: line))
        }
    }

    /// `-p key=value`: an override that wins over every file, whenever it is applied.
    public mutating func override(_ argument: String) throws {
        guard let equals = argument.firstIndex(of: "=") else { throw WorkloadError.badOverride(argument) }
        let key = String(argument[..<equals]).trimmingWhitespace()
        guard !key.isEmpty else { throw WorkloadError.badOverride(argument) }
        set(key, String(argument[argument.index(after: equals)...]), source: .commandLine)
    }

    /// YCSB's order: all `-P` files in order, then all `-p` overrides.
    public static func load(files: [String], overrides: [String]) throws -> WorkloadProperties {
        var properties = WorkloadProperties()
        for file in files { try properties.load(file: file) }
        for argument in overrides { try properties.override(argument) }
        return properties
    }

    /// Warnings for unknown keys that look like typos of `known` keys ("did you mean").
    public func typoWarnings(known: Set<String>) -> [String] {
        typoWarnings(known: known, candidates: TypoCandidate.prepare(known))
    }

    /// Warnings for unknown keys that look like typos of `WorkloadSpec.knownKeys`.
    public func typoWarnings() -> [String] {
        typoWarnings(known: WorkloadSpec.knownKeys, candidates: TypoCandidate.knownKeys)
    }

    private func typoWarnings(known: Set<String>, candidates: [TypoCandidate]) -> [String] {
        var warnings: [String] = []
        for key in keysInOrder where !known.contains(key) {
            let lowered = Array(key.lowercased().utf8)
            var best: (name: String, distance: Int)?
            for candidate in candidates {
                let limit = min(candidate.limit, best.map { $0.distance - 1 } ?? candidate.limit)
                guard limit >= 0 else { break }
                let distance = editDistance(lowered, candidate.bytes, atMost: limit)
                if distance <= limit { best = (candidate.name, distance) }
            }
            if let best {
                warnings.append("\(entries[key]!.source): unknown property '\(key)'; did you mean '\(best.name)'?")
            }
        }
        return warnings
    }
}

/// A known key prepared for typo matching: lower-cased bytes and the largest distance that still counts.
struct TypoCandidate {
    let name: String
    let bytes: [UInt8]
    let limit: Int

    /// In name order, so that ties resolve to the first name.
    static func prepare(_ known: Set<String>) -> [TypoCandidate] {
        known.sorted().map { TypoCandidate(name: $0, bytes: Array($0.lowercased().utf8), limit: $0.count <= 6 ? 1 : 2) }
    }

    static let knownKeys = prepare(WorkloadSpec.knownKeys)
}

// MARK: - Java .properties syntax

extension WorkloadProperties {
    /// Parses Java `.properties` text into (key, value, line of the logical line's start).
    /// Rules: `#`/`!` comment lines; key ends at the first unescaped `=`, `:` or whitespace;
    /// whitespace and one `=`/`:` after the key are skipped; a line ending in an odd number of
    /// backslashes continues on the next line with its leading whitespace dropped; escapes
    /// `\t \n \r \f \uXXXX`, and `\x` = `x` for any other character.
    public static func parse(_ text: String, fileName: String) throws -> [(key: String, value: String, line: Int)] {
        var result: [(key: String, value: String, line: Int)] = []
        let lines = splitLines(Array(text.unicodeScalars))
        var index = 0
        while index < lines.count {
            let startLine = index + 1
            var line = lines[index][...]
            index += 1
            line = line.drop(while: isWhitespace)
            if line.isEmpty || line.first == "#" || line.first == "!" { continue }
            var logical: [Unicode.Scalar] = []
            while true {
                if endsWithContinuation(line) {
                    logical.append(contentsOf: line.dropLast())
                    guard index < lines.count else { break }
                    line = lines[index][...].drop(while: isWhitespace)
                    index += 1
                } else {
                    logical.append(contentsOf: line)
                    break
                }
            }
            let (key, value) = try splitKeyValue(logical, fileName: fileName, line: startLine)
            result.append((key, value, startLine))
        }
        return result
    }

    static func splitLines(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var lines: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "\n" || c == "\r" {
                lines.append(current)
                current = []
                if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
            } else {
                current.append(c)
            }
            i += 1
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static func isWhitespace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\u{0C}" }

    static func endsWithContinuation(_ line: ArraySlice<Unicode.Scalar>) -> Bool {
        var backslashes = 0
        var i = line.endIndex - 1
        while i >= line.startIndex, line[i] == "\\" {
            backslashes += 1
            i -= 1
        }
        return backslashes % 2 == 1
    }

    static func splitKeyValue(_ s: [Unicode.Scalar], fileName: String, line: Int) throws -> (String, String) {
        var i = 0
        var keyEnd = s.count
        while i < s.count {
            let c = s[i]
            if c == "\\" { i += 2; continue }
            if c == "=" || c == ":" || isWhitespace(c) { keyEnd = i; break }
            i += 1
        }
        keyEnd = min(keyEnd, s.count)
        var v = keyEnd
        while v < s.count, isWhitespace(s[v]) { v += 1 }
        if v < s.count, s[v] == "=" || s[v] == ":" {
            v += 1
            while v < s.count, isWhitespace(s[v]) { v += 1 }
        }
        let key = try unescape(s[0..<keyEnd], fileName: fileName, line: line)
        let value = try unescape(s[v...], fileName: fileName, line: line)
        return (key, value)
    }

    static func unescape(_ s: ArraySlice<Unicode.Scalar>, fileName: String, line: Int) throws -> String {
        var out = String.UnicodeScalarView()
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            i += 1
            guard c == "\\" else { out.append(c); continue }
            guard i < s.endIndex else { break }  // a lone trailing backslash is dropped, as Java does
            let e = s[i]
            i += 1
            switch e {
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "f": out.append("\u{0C}")
            case "u":
                guard i + 4 <= s.endIndex, let code = UInt32(String(String.UnicodeScalarView(s[i..<(i + 4)])), radix: 16),
                    let scalar = Unicode.Scalar(code)
                else {
                    throw WorkloadError.syntax(file: fileName, line: line, message: "malformed \\uXXXX escape")
                }
                out.append(scalar)
                i += 4
            default: out.append(e)
            }
        }
        return String(out)
    }
}

/// Levenshtein distance between `x` and `y`, or `limit + 1` as soon as it is known to exceed `limit`
/// (typo suggestions only care about small distances, and keys can be long).
func editDistance(_ x: [UInt8], _ y: [UInt8], atMost limit: Int) -> Int {
    // The distance is at least the length difference: skip hopeless pairs without a table.
    guard abs(x.count - y.count) <= limit else { return limit + 1 }
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        var rowMinimum = i
        for j in 1...y.count {
            let value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            current[j] = value
            rowMinimum = min(rowMinimum, value)
        }
        // Every later row is at least this row's minimum.
        if rowMinimum > limit { return limit + 1 }
        swap(&previous, &current)
    }
    return min(previous[y.count], limit + 1)
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !WorkloadProperties.isWhitespace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !WorkloadProperties.isWhitespace($0) })!
        return String(scalars[first...last])
    }
}
