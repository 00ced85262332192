import NIOCore

/// A client command. The arguments are views into one frame buffer (for multibulk commands a
/// slice of the read buffer, so nothing is copied); argument 0 is the command name. Up to six
/// arguments are stored without any heap allocation.
///
/// The slices keep the whole read buffer alive: copy an argument (e.g. a value being stored)
/// into its own buffer before keeping it beyond the handling of the command, or the next read
/// into the connection's buffer has to copy it.
public struct RESPCommand: Sendable {
    @usableFromInline var frame: ByteBuffer
    @usableFromInline var spans: ArgumentSpans

    init(frame: ByteBuffer, spans: ArgumentSpans) {
        self.frame = frame
        self.spans = spans
    }

    /// A command built from separate argument buffers (tests, internal dispatch). Copies them into one frame.
    public init(_ arguments: [ByteBuffer]) {
        var frame = ByteBufferAllocator().buffer(capacity: arguments.reduce(0) { $0 + $1.readableBytes })
        var spans = ArgumentSpans()
        for argument in arguments {
            let start = frame.writerIndex
            var copy = argument
            frame.writeBuffer(&copy)
            spans.append(ArgumentSpan(start: start, length: argument.readableBytes), expectedCount: arguments.count)
        }
        self.init(frame: frame, spans: spans)
    }

    /// A command built from strings, e.g. `RESPCommand(["SET", "k", "v"])`.
    public init(_ arguments: [String]) {
        self.init(arguments.map { ByteBuffer(string: $0) })
    }

    /// Number of arguments, including the command name.
    @inlinable
    public var count: Int { spans.count }

    /// Argument `i` as a slice of the frame (no copy).
    @inlinable
    public subscript(i: Int) -> ByteBuffer {
        let span = spans[i]
        return frame.getSlice(at: frame.readerIndex + Int(span.start), length: Int(span.length))!
    }

    /// All arguments as an array of slices. Allocates the array; prefer `count` and the subscript on hot paths.
    public var arguments: [ByteBuffer] {
        (0..<count).map { self[$0] }
    }

    /// Calls `body` with the raw bytes of argument `i` (valid only inside `body`).
    @inlinable
    public func withArgumentBytes<Result>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let span = spans[i]
        return try frame.withUnsafeReadableBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[Int(span.start)..<Int(span.start + span.length)]))
        }
    }

    /// Case-insensitive ASCII comparison of argument `i` with `name`, which must be uppercase
    /// (e.g. `argument(2, equalsUppercased: "NX")`). Does not allocate.
    @inlinable
    public func argument(_ i: Int, equalsUppercased name: StaticString) -> Bool {
        guard i >= 0, i < count else { return false }
        return withArgumentBytes(i) { bytes in
            name.withUTF8Buffer { expected in
                guard bytes.count == expected.count else { return false }
                for j in 0..<bytes.count {
                    let b = bytes[j]
                    let upper = b &- UInt8(ascii: "a") < 26 ? b &- 0x20 : b
                    if upper != expected[j] { return false }
                }
                return true
            }
        }
    }

    /// The command name (argument 0) as an uppercase lookup key; nil for names longer than
    /// `CommandName.maxLength` bytes (no such command exists) or an empty name.
    @inlinable
    public var name: CommandName? {
        guard count > 0 else { return nil }
        return withArgumentBytes(0) { CommandName(bytes: $0) }
    }
}

extension RESPCommand: Equatable {
    /// Commands are equal when they have the same arguments, byte for byte.
    public static func == (lhs: RESPCommand, rhs: RESPCommand) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for i in 0..<lhs.count where lhs[i] != rhs[i] { return false }
        return true
    }
}

extension RESPCommand: CustomStringConvertible {
    /// Arguments as (lossy UTF-8) strings, for logs and test failures.
    public var description: String {
        "RESPCommand(" + arguments.map { "\"" + String(buffer: $0) + "\"" }.joined(separator: ", ") + ")"
    }
}
