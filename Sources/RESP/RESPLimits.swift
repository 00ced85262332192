/// Limits on what a peer may send. The defaults follow redis-server's, so a client that works
/// against Redis works against us, and a hostile peer can never make us allocate more than the
/// bytes it actually sent (plus bounded bookkeeping).
public struct RESPLimits: Sendable, Hashable {
    /// Largest bulk string length accepted (redis `proto-max-bulk-len`). Checked on the `$<len>`
    /// header, before waiting for the payload.
    public var maxBulkLength: Int
    /// Largest element count of a multibulk command or a reply aggregate (array, set, push, map pairs).
    public var maxArrayLength: Int
    /// Longest inline command line, and longest header / simple line (redis `PROTO_INLINE_MAX_SIZE`).
    public var maxInlineLength: Int
    /// Deepest nesting of reply aggregates (arrays inside maps inside ...); capped at 1024 because
    /// the reply parser recurses once per level.
    public var maxNestingDepth: Int

    /// Limits with Redis's defaults unless given.
    public init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxArrayLength: Int = 1024 * 1024,
        maxInlineLength: Int = 64 * 1024,
        maxNestingDepth: Int = 32
    ) {
        self.maxBulkLength = maxBulkLength
        self.maxArrayLength = maxArrayLength
        self.maxInlineLength = maxInlineLength
        self.maxNestingDepth = maxNestingDepth
    }
}

extension RESPLimits {
    // The parsers use these clamped values so that no setting can make offset arithmetic
    // overflow (a ByteBuffer never exceeds UInt32.max bytes) or let nesting exhaust the stack.
    var bulkLengthLimit: Int { min(max(maxBulkLength, 0), Int(UInt32.max)) }
    var arrayLengthLimit: Int { min(max(maxArrayLength, 0), Int(Int32.max)) }
    var lineLengthLimit: Int { min(max(maxInlineLength, 0), Int(UInt32.max)) }
    /// At most 1024 levels are ever allowed, whatever `maxNestingDepth` says.
    var nestingDepthLimit: Int { min(max(maxNestingDepth, 0), 1024) }
}
