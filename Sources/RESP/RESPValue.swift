import NIOCore

/// The protocol version a connection speaks (chosen by `HELLO`); writers fall back to RESP2
/// equivalents for RESP3-only types exactly as Redis does.
public enum RESPVersion: Int, Sendable, Hashable {
    case v2 = 2
    case v3 = 3
}

/// One key/value entry of a RESP3 map (a struct so `RESPValue` can stay `Hashable`).
public struct RESPMapEntry: Sendable, Hashable {
    public var key: RESPValue
    public var value: RESPValue

    public init(_ key: RESPValue, _ value: RESPValue) {
        self.key = key
        self.value = value
    }
}

/// A RESP2/RESP3 value: what servers reply and clients decode. Strings are `ByteBuffer`s (slices
/// of the read buffer when decoded).
///
/// Decoding notes: RESP3 attributes (`|`) are skipped, blob errors (`!`) decode as `.error`, and
/// streamed strings/aggregates (`$?`, `*?`) are rejected (Redis never sends them).
public enum RESPValue: Sendable, Hashable {
    case simpleString(ByteBuffer)
    case error(ByteBuffer)
    case integer(Int64)
    /// nil is the RESP2 null bulk string `$-1`.
    case bulkString(ByteBuffer?)
    /// nil is the RESP2 null array `*-1`.
    case array([RESPValue]?)
    /// The RESP3 null `_`.
    case null
    case double(Double)
    case boolean(Bool)
    /// A RESP3 big number, as its decimal digits.
    case bigNumber(ByteBuffer)
    /// A RESP3 verbatim string; `format` is three ASCII bytes such as `txt` or `mkd`.
    case verbatimString(format: String, ByteBuffer)
    case map([RESPMapEntry])
    case set([RESPValue])
    case push([RESPValue])
}

extension RESPValue {
    /// `.simpleString` from a string.
    public static func simpleString(_ s: String) -> RESPValue { .simpleString(ByteBuffer(string: s)) }
    /// `.error` from a string such as `"ERR unknown command"`.
    public static func error(_ s: String) -> RESPValue { .error(ByteBuffer(string: s)) }
    /// `.bulkString` from a string.
    public static func bulkString(_ s: String) -> RESPValue { .bulkString(ByteBuffer(string: s)) }
}
