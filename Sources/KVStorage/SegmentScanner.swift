/// Walks the records of a segment image, resynchronising after damage.
///
/// Policy: when the record at some offset is unreadable, the scanner looks for the next offset
/// where a complete record with a valid checksum starts. If there is one, the damage is in the
/// middle: the bad bytes are reported as `.corrupt` and skipped. If there is none, the damage is
/// the tail (a torn write or zero fill): reported as `.tail`, and scanning stops.
enum SegmentScanner {
    enum Damage {
        case corrupt(offset: Int, skipped: Int, reason: String)
        case tail(offset: Int, reason: String)
    }

    /// Calls `onRecord` for each valid record in order; returns the damage found (at most one tail).
    static func scan(_ buf: UnsafeRawBufferPointer, onRecord: (RecordFormat.View) throws -> Void) rethrows -> [Damage] {
        var damage: [Damage] = []
        var pos = 0
        while pos < buf.count {
            switch RecordFormat.decode(buf, at: pos) {
            case let .record(view):
                try onRecord(view)
                pos += view.size
            case let .incomplete(reason), let .bad(reason):
                if let next = resync(buf, after: pos) {
                    damage.append(.corrupt(offset: pos, skipped: next - pos, reason: reason))
                    pos = next
                } else {
                    damage.append(.tail(offset: pos, reason: reason))
                    return damage
                }
            }
        }
        return damage
    }

    /// The first offset after `pos` where a valid record starts, or nil.
    static func resync(_ buf: UnsafeRawBufferPointer, after pos: Int) -> Int? {
        // Fast path: the header is intact and only the body is damaged.
        if buf.count - pos >= RecordFormat.headerSize {
            let p = buf.baseAddress! + pos
            let k = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 18, as: UInt32.self)))
            let v = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 22, as: UInt32.self)))
            let next = pos + RecordFormat.size(keyLength: k, valueLength: v)
            if k <= RecordFormat.maxFieldLength, v <= RecordFormat.maxFieldLength, next < buf.count,
               case .record = RecordFormat.decode(buf, at: next) {
                return next
            }
        }
        var q = pos + 1
        while q < buf.count {
            if buf[q] == RecordFormat.magic, case .record = RecordFormat.decode(buf, at: q) { return q }
            q += 1
        }
        return nil
    }
}
