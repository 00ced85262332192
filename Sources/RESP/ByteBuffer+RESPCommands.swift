import NIOCore

/// Something that can be one argument of a command a client sends (a bulk string on the wire).
public protocol RESPCommandArgument {
    /// Appends `$<len>\r\n<bytes>\r\n`.
    func writeRESPBulkString(into buffer: inout ByteBuffer)
}

extension StaticString: RESPCommandArgument {
    @inlinable
    public func writeRESPBulkString(into buffer: inout ByteBuffer) {
        withUTF8Buffer { buffer.writeRESPBulkString(UnsafeRawBufferPointer($0)) }
    }
}

extension String: RESPCommandArgument {
    @inlinable
    public func writeRESPBulkString(into buffer: inout ByteBuffer) { buffer.writeRESPBulkString(self) }
}

extension Substring: RESPCommandArgument {
    @inlinable
    public func writeRESPBulkString(into buffer: inout ByteBuffer) {
        buffer.writeRESPDecimalLine(prefix: UInt8(ascii: "$"), Int64(utf8.count))
        buffer.writeSubstring(self)
        buffer.writeRESPCRLF()
    }
}

extension ByteBuffer: RESPCommandArgument {
    @inlinable
    public func writeRESPBulkString(into buffer: inout ByteBuffer) { buffer.writeRESPBulkString(self) }
}

extension Int: RESPCommandArgument {
    /// The decimal text of the integer, as a bulk string (`EXPIRE key 10`).
    @inlinable
    public func writeRESPBulkString(into buffer: inout ByteBuffer) {
        let digits = RESPEncoding.decimalDigits(UInt64(magnitude))
        buffer.writeRESPDecimalLine(prefix: UInt8(ascii: "$"), Int64(digits + (self < 0 ? 1 : 0)))
        buffer.writeRESPDecimalLine(prefix: nil, Int64(self))
    }
}

/// Client-side command encoders: a command is a multibulk array of bulk strings.
extension ByteBuffer {
    /// Encodes a command from any mix of arguments: `writeRESPCommand("SET", key, value, "EX", 10)`.
    /// Variadic generics: no array or existential is created.
    @inlinable
    public mutating func writeRESPCommand<each Argument: RESPCommandArgument>(_ arguments: repeat each Argument) {
        var count = 0
        for _ in repeat each arguments { count += 1 }
        writeRESPArrayHeader(count)
        for argument in repeat each arguments { argument.writeRESPBulkString(into: &self) }
    }

    /// Encodes a command given as strings.
    @inlinable
    public mutating func writeRESPCommand(_ arguments: [String]) {
        writeRESPArrayHeader(arguments.count)
        for argument in arguments { writeRESPBulkString(argument) }
    }

    /// Encodes a command given as buffers (readable bytes of each).
    @inlinable
    public mutating func writeRESPCommand(_ arguments: [ByteBuffer]) {
        writeRESPArrayHeader(arguments.count)
        for argument in arguments { writeRESPBulkString(argument) }
    }

    /// Encodes a parsed command back to multibulk form (proxies, replication).
    public mutating func writeRESPCommand(_ command: RESPCommand) {
        writeRESPArrayHeader(command.count)
        for i in 0..<command.count { command.withArgumentBytes(i) { writeRESPBulkString($0) } }
    }

    /// Fast path for a load generator: `GET key`.
    @inlinable
    public mutating func writeRESPGetCommand(key: UnsafeRawBufferPointer) {
        writeRESPCommand(RESPEncoding.getHeader, key)
    }

    /// Fast path for a load generator: `GET key`.
    @inlinable
    public mutating func writeRESPGetCommand(key: ByteBuffer) {
        writeStaticString("*2\r\n$3\r\nGET\r\n")
        writeRESPBulkString(key)
    }

    /// Fast path for a load generator: `SET key value`.
    @inlinable
    public mutating func writeRESPSetCommand(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        writeRESPCommand(RESPEncoding.setHeader, key, value)
    }

    /// A literal command head (`*2\r\n$3\r\nGET\r\n`) followed by one bulk string, in one capacity check.
    @inlinable
    mutating func writeRESPCommand(_ head: StaticString, _ a: UnsafeRawBufferPointer) {
        let total = RESPEncoding.commandLength(head, a.count)
        writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            RESPEncoding.storeCommand(head, a, at: out.baseAddress!)
        }
    }

    /// A literal command head followed by two bulk strings, in one capacity check.
    @inlinable
    mutating func writeRESPCommand(_ head: StaticString, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) {
        let total = RESPEncoding.commandLength(head, a.count, b.count)
        writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            RESPEncoding.storeCommand(head, a, b, at: out.baseAddress!)
        }
    }

    /// Fast path for a load generator: `SET key value`.
    @inlinable
    public mutating func writeRESPSetCommand(key: ByteBuffer, value: ByteBuffer) {
        writeStaticString("*3\r\n$3\r\nSET\r\n")
        writeRESPBulkString(key)
        writeRESPBulkString(value)
    }
}
