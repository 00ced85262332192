#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KVHash
import Logging

/// Rebuilds the index from the data directory.
///
/// Segments are loaded in id order, each from its hint file when that is present and valid
/// (values are then copied from the segment at the hinted offsets), otherwise by scanning the
/// segment. Duplicates resolve by the highest sequence number, so file order does not matter
/// (e.g. after a crash mid-merge). Tombstones and expired records stay as "shadow" entries until
/// every segment is loaded, so they still hide older versions; a flush marker hides every record
/// with a smaller sequence number. Damage policy: see `SegmentScanner`; a damaged tail is cut off
/// (file truncated to the last good record), a damaged middle record is skipped and listed in
/// the report, or makes recovery throw when `strictRecovery` is set.
struct Recovery {
    let configuration: StorageConfiguration
    let io: any FileIO
    let logger: Logger
    let shards: [Shard]

    struct Result {
        var report: RecoveryReport
        var segments: [UInt32: SegmentInfo]
        var nextSequence: UInt64
    }

    private var dir: String { configuration.directory }

    func run() throws -> Result {
        let start = monotonicNanos()
        var report = RecoveryReport()
        var segments: [UInt32: SegmentInfo] = [:]
        var maxSequence: UInt64 = 0
        var flushSequence: UInt64 = 0
        let now = configuration.clock()

        let names = try DataDirectory.list(dir)
        var segmentIds: [UInt32] = []
        var hintIds = Set<UInt32>()
        for name in names {
            if name.hasSuffix(".tmp") {
                try io.unlink(dir + "/" + name)  // unfinished merge output
            } else if let id = DataDirectory.parse(name, ext: "log") {
                segmentIds.append(id)
            } else if let id = DataDirectory.parse(name, ext: "hint") {
                hintIds.insert(id)
            }
        }
        segmentIds.sort()
        for orphan in hintIds.subtracting(segmentIds) { try io.unlink(path(orphan, "hint")) }

        for id in segmentIds {
            let bytes = try io.readAll(path(id, "log"))
            var info = SegmentInfo(totalBytes: bytes.count, closed: true)
            var loadedFromHint = false
            if hintIds.contains(id) {
                let hint = try io.readAll(path(id, "hint"))
                if let entries = Self.validHint(hint, segment: bytes) {
                    loadedFromHint = true
                    report.hintFilesUsed += 1
                    info.hasHint = true
                    bytes.withUnsafeBytes { seg in
                        hint.withUnsafeBytes { h in
                            for e in entries {
                                let key = UnsafeRawBufferPointer(rebasing: h[e.keyOffset..<(e.keyOffset + e.keyLength)])
                                let valueStart = e.offset + RecordFormat.headerSize + e.keyLength
                                let value = UnsafeRawBufferPointer(rebasing: seg[valueStart..<(e.offset + e.size)])
                                maxSequence = max(maxSequence, e.sequence)
                                info.maxSequence = max(info.maxSequence, e.sequence)
                                report.recordsReplayed += 1
                                apply(kind: e.kind, sequence: e.sequence, expiry: e.expiry, key: key, value: value,
                                      segment: id, offset: e.offset, now: now, flush: &flushSequence, report: &report)
                            }
                        }
                    }
                } else {
                    report.invalidHintFiles.append(id)
                    logger.warning("invalid hint file; scanning the segment", metadata: ["segment": "\(id)"])
                    try io.unlink(path(id, "hint"))
                }
            }
            if !loadedFromHint {
                report.segmentsScanned += 1
                let damage = bytes.withUnsafeBytes { seg in
                    SegmentScanner.scan(seg) { v in
                        maxSequence = max(maxSequence, v.sequence)
                        info.maxSequence = max(info.maxSequence, v.sequence)
                        report.recordsReplayed += 1
                        apply(kind: v.kind, sequence: v.sequence, expiry: v.expiry,
                              key: UnsafeRawBufferPointer(rebasing: seg[v.keyOffset..<v.valueOffset]),
                              value: UnsafeRawBufferPointer(rebasing: seg[v.valueOffset..<(v.offset + v.size)]),
                              segment: id, offset: v.offset, now: now, flush: &flushSequence, report: &report)
                    }
                }
                for d in damage {
                    switch d {
                    case let .corrupt(offset, skipped, reason):
                        if configuration.strictRecovery {
                            throw StorageError(.corrupt(segment: id, offset: offset, reason: reason))
                        }
                        logger.error("corrupt record skipped", metadata: ["segment": "\(id)", "offset": "\(offset)", "reason": "\(reason)"])
                        report.corruptRecords.append(.init(segment: id, offset: offset, skippedBytes: skipped, reason: reason))
                    case let .tail(offset, reason):
                        if bytes[offset...].allSatisfy({ $0 == 0 }) {
                            // Log space preallocated under `--fsync always` (or a zero-filled torn write):
                            // nothing that was written is lost.
                            logger.info("dropping zero-filled tail", metadata: ["segment": "\(id)", "offset": "\(offset)", "bytes": "\(bytes.count - offset)"])
                        } else {
                            logger.warning("truncating damaged tail", metadata: ["segment": "\(id)", "offset": "\(offset)", "reason": "\(reason)"])
                        }
                        report.truncatedTails.append(.init(segment: id, offset: offset, droppedBytes: bytes.count - offset))
                        try truncate(id, to: offset)
                        info.totalBytes = offset
                    }
                }
            }
            segments[id] = info
        }

        // Drop shadows and flushed entries; count live bytes per segment.
        var liveBytes: [UInt32: Int] = [:]
        for s in shards {
            s.table.retain { e in
                if e.isShadow || e.sequence < flushSequence { return false }
                liveBytes[e.segment, default: 0] += e.recordSize
                s.didInsert(e)
                return true
            }
            report.keysLoaded += s.table.count
        }
        for (id, var info) in segments {
            info.deadBytes = info.totalBytes - (liveBytes[id] ?? 0)
            segments[id] = info
        }
        report.durationNanos = monotonicNanos() - start
        logger.info("recovery done", metadata: [
            "keys": "\(report.keysLoaded)", "segments": "\(segmentIds.count)", "hints": "\(report.hintFilesUsed)",
            "truncated": "\(report.truncatedTails.count)", "corrupt": "\(report.corruptRecords.count)",
        ])
        return Result(report: report, segments: segments, nextSequence: max(maxSequence, flushSequence) + 1)
    }

    private func path(_ id: UInt32, _ ext: String) -> String { dir + "/" + DataDirectory.fileName(id, ext) }

    private func apply(kind: RecordFormat.Kind, sequence: UInt64, expiry: Int64, key: UnsafeRawBufferPointer,
                       value: UnsafeRawBufferPointer, segment: UInt32, offset: Int, now: Int64,
                       flush: inout UInt64, report: inout RecoveryReport) {
        if kind == .flush {
            flush = max(flush, sequence)
            return
        }
        if sequence < flush { return }
        let expired = kind == .put && expiry != 0 && expiry <= now
        if expired { report.expiredSkipped += 1 }
        let h = XXH3.hash(key)
        let s = shards[Int(truncatingIfNeeded: (h >> 40) % UInt64(shards.count))]
        let slot = s.table.find(hash: h, key: key)
        if let slot, s.table[slot].sequence >= sequence { return }
        let shadow = kind == .tombstone || expired
        let e = Entry.allocate(hash: h, sequence: sequence, expiry: expiry, segment: segment,
                               offset: UInt32(truncatingIfNeeded: offset), key: key, value: shadow ? nil : value)
        if let slot {
            s.table[slot].free()
            s.table.replace(slot: slot, with: e)
        } else {
            s.table.insertNew(e)
        }
    }

    /// Parses the hint and checks it against the segment: offsets in range, records start with
    /// the magic byte and carry the hinted key and sequence number.
    static func validHint(_ hint: [UInt8], segment: [UInt8]) -> [HintFormat.Entry]? {
        hint.withUnsafeBytes { h -> [HintFormat.Entry]? in
            guard let entries = HintFormat.parse(h) else { return nil }
            return segment.withUnsafeBytes { seg -> [HintFormat.Entry]? in
                for e in entries {
                    guard e.offset >= 0, e.size >= RecordFormat.headerSize + e.keyLength,
                          e.offset + e.size <= seg.count else { return nil }
                    let p = seg.baseAddress! + e.offset
                    guard p.load(as: UInt8.self) == RecordFormat.magic,
                          UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 10, as: UInt64.self)) == e.sequence,
                          Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 18, as: UInt32.self))) == e.keyLength,
                          e.keyLength == 0 || memcmp(p + RecordFormat.headerSize, h.baseAddress! + e.keyOffset, e.keyLength) == 0
                    else { return nil }
                }
                return entries
            }
        }
    }

    private func truncate(_ id: UInt32, to length: Int) throws(StorageError) {
        let p = path(id, "log")
        let fd = try io.open(p, flags: O_WRONLY)
        defer { io.close(fd) }
        try io.truncate(fd, length: length, path: p)
        try io.fdatasync(fd, path: p)
    }
}
