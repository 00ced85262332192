/// A command name, ASCII-uppercased and packed into three machine words: a cheap, allocation-free
/// `Hashable` key for dispatch tables (`[CommandName: Handler]`) or `switch` over static constants.
/// Names of 1...24 bytes are representable (every Redis command name is).
public struct CommandName: Sendable, Hashable, CustomStringConvertible {
    /// Longest representable name in bytes.
    public static let maxLength = 24

    @usableFromInline var w0: UInt64 = 0
    @usableFromInline var w1: UInt64 = 0
    @usableFromInline var w2: UInt64 = 0
    @usableFromInline var length: UInt8 = 0

    /// Packs `bytes`, uppercasing ASCII letters; nil when empty or longer than `maxLength`.
    @inlinable
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, bytes.count <= Self.maxLength else { return nil }
        length = UInt8(bytes.count)
        for i in 0..<bytes.count {
            let b = bytes[i]
            let upper = UInt64(b &- UInt8(ascii: "a") < 26 ? b &- 0x20 : b)
            let shift = UInt64((i & 7) &* 8)
            switch i >> 3 {
            case 0: w0 |= upper << shift
            case 1: w1 |= upper << shift
            default: w2 |= upper << shift
            }
        }
    }

    /// A name from a literal such as `"GET"` (case is normalised). Traps on an empty or over-long
    /// literal, which is a programming error.
    public init(_ name: StaticString) {
        let packed = name.withUTF8Buffer { CommandName(bytes: UnsafeRawBufferPointer($0)) }
        guard let packed else { preconditionFailure("CommandName must be 1...\(Self.maxLength) bytes") }
        self = packed
    }

    /// The uppercase name.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(length))
        for i in 0..<Int(length) {
            let word = i < 8 ? w0 : (i < 16 ? w1 : w2)
            bytes.append(UInt8(truncatingIfNeeded: word >> UInt64((i & 7) * 8)))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
