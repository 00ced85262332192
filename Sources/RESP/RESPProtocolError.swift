/// A malformed or over-limit input. `message` is the Redis-style text a server sends back
/// (as `-<message>`) before closing the connection.
public struct RESPProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for code that wants to branch on it.
    public enum Kind: Sendable, Hashable {
        case invalidBulkLength
        case invalidMultibulkLength
        case unexpectedByte
        case tooBigInlineRequest
        case tooBigCountString
        case unbalancedQuotes
        case missingCRLF
        case invalidValue
        case tooDeepNesting
        case unsupportedType
    }

    /// The category, stable for code to match on.
    public var kind: Kind
    /// The Redis-style text, e.g. `Protocol error: invalid bulk length` (send it as `-ERR <message>`).
    public var message: String

    /// An error of `kind` with the given text.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static let invalidBulkLength = Self(kind: .invalidBulkLength, message: "Protocol error: invalid bulk length")
    static let invalidMultibulkLength = Self(kind: .invalidMultibulkLength, message: "Protocol error: invalid multibulk length")
    static let tooBigInlineRequest = Self(kind: .tooBigInlineRequest, message: "Protocol error: too big inline request")
    static let tooBigMultibulkCount = Self(kind: .tooBigCountString, message: "Protocol error: too big mbulk count string")
    static let tooBigBulkCount = Self(kind: .tooBigCountString, message: "Protocol error: too big bulk count string")
    static let tooBigSimpleLine = Self(kind: .tooBigCountString, message: "Protocol error: too big line")
    static let unbalancedQuotes = Self(kind: .unbalancedQuotes, message: "Protocol error: unbalanced quotes in request")
    static let missingCRLF = Self(kind: .missingCRLF, message: "Protocol error: expected CRLF")
    static let tooDeepNesting = Self(kind: .tooDeepNesting, message: "Protocol error: too deep nesting")
    static let unsupportedStreamed = Self(kind: .unsupportedType, message: "Protocol error: streamed RESP3 types are not supported")

    static func invalid(_ what: StaticString) -> Self {
        Self(kind: .invalidValue, message: "Protocol error: invalid \(what)")
    }

    /// `Protocol error: expected '$', got 'x'` (non-printable bytes are shown as `\xHH`).
    static func expected(_ expected: UInt8, got: UInt8) -> Self {
        Self(kind: .unexpectedByte, message: "Protocol error: expected '\(printable(expected))', got '\(printable(got))'")
    }

    /// `Protocol error: invalid type byte 'x'` for a reply that starts with an unknown type.
    static func unknownType(_ byte: UInt8) -> Self {
        Self(kind: .unexpectedByte, message: "Protocol error: invalid type byte '\(printable(byte))'")
    }

    private static func printable(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return String(UnicodeScalar(byte)) }
        let hex: [Character] = Array("0123456789abcdef")
        return "\\x" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
    }
}
