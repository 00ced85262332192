/// Where one argument lives inside a command's frame: offset from the frame's reader index and
/// length. ByteBuffer capacities fit in UInt32, so both do too.
@usableFromInline
struct ArgumentSpan: Sendable, Hashable {
    @usableFromInline var start: UInt32
    @usableFromInline var length: UInt32

    @inlinable
    init(start: Int, length: Int) {
        self.start = UInt32(truncatingIfNeeded: start)
        self.length = UInt32(truncatingIfNeeded: length)
    }

    @usableFromInline static let zero = ArgumentSpan(start: 0, length: 0)
}

/// A small vector of argument spans: the first six live inline (so `SET key value EX 10 NX`
/// parses without any allocation); more go to a heap array.
@usableFromInline
struct ArgumentSpans: Sendable {
    @usableFromInline static let inlineCapacity = 6
    /// Never reserve more than this up front, whatever count a peer announces.
    static let maxReservation = 1024

    @usableFromInline var count: Int = 0
    @usableFromInline var inline: (ArgumentSpan, ArgumentSpan, ArgumentSpan, ArgumentSpan, ArgumentSpan, ArgumentSpan) =
        (.zero, .zero, .zero, .zero, .zero, .zero)
    @usableFromInline var overflow: [ArgumentSpan] = []

    @usableFromInline init() {}

    mutating func append(_ span: ArgumentSpan, expectedCount: Int) {
        switch count {
        case 0: inline.0 = span
        case 1: inline.1 = span
        case 2: inline.2 = span
        case 3: inline.3 = span
        case 4: inline.4 = span
        case 5: inline.5 = span
        default:
            if overflow.isEmpty {
                overflow.reserveCapacity(min(max(expectedCount - Self.inlineCapacity, 1), Self.maxReservation))
            }
            overflow.append(span)
        }
        count += 1
    }

    @inlinable
    subscript(index: Int) -> ArgumentSpan {
        precondition(index >= 0 && index < count, "argument index out of range")
        switch index {
        case 0: return inline.0
        case 1: return inline.1
        case 2: return inline.2
        case 3: return inline.3
        case 4: return inline.4
        case 5: return inline.5
        default: return overflow[index - Self.inlineCapacity]
        }
    }
}
