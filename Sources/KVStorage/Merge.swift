#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KVHash

/// Merge (compaction) of every closed segment.
///
/// 1. Read each closed segment and copy its live put records (the index still holds that exact
///    sequence number, and it has not expired) into new segments with fresh ids, plus a hint file
///    per new segment. Tombstones, flush markers, superseded and expired records are dropped:
///    every record they could hide is older and lives in a segment of the same merge.
/// 2. Each time an output segment is full (and at the end): write it and its hint as `.tmp`,
///    fdatasync, rename into place, fsync the directory (so memory holds one output at a time)...
/// 3. ...and point index entries at the new location, only where the entry still has the copied
///    sequence number (a concurrent write wins; its copy is counted as dead).
/// 4. Delete the old segments (and hints) in ascending order of their highest sequence number,
///    then fsync the directory. If a crash interrupts step 4, every record that hides another is
///    in a segment deleted no earlier than the records it hides, and recovery resolves the
///    remaining duplicates by sequence number.
///
/// Reads and writes continue meanwhile: shard locks are taken per record, briefly.
/// An I/O error aborts the merge (temporary files are removed, old segments stay); it is not
/// fatal for the engine, because the old segments remain durable and authoritative.
extension StorageEngine {
    private final class Output {
        let id: UInt32
        init(id: UInt32) { self.id = id }
        var data = ByteSink(capacity: 1 << 20)
        var hint = ByteSink(capacity: 64 * 1024)
        var records = 0
        var maxSequence: UInt64 = 0
        /// (offset in data, sequence) of each copied record.
        var moved: [(offset: Int, sequence: UInt64)] = []
    }

    /// Merges all closed segments now (waits for a running merge first).
    public func mergeNow() throws -> MergeReport {
        let start = monotonicNanos()
        control.mergeLock.lock()
        defer { control.mergeLock.unlock() }
        if control.isClosed { throw StorageError(.closed) }
        var report = MergeReport()
        let candidates = log.closedSegments()
        guard !candidates.isEmpty else { return report }
        let t = now()
        var output: Output?

        do throws(StorageError) {
            for (id, info) in candidates {
                report.segmentsMerged += 1
                report.bytesBefore += info.totalBytes
                let bytes = try io.readAll(log.path(id))
                let scanned = bytes.withUnsafeBytes { (seg) -> Result<Void, StorageError> in Result { () throws(StorageError) in
                    var position = 0
                    while position < seg.count {
                        // Scan in steps so a full output can be published between records.
                        guard case let .record(v) = RecordFormat.decode(seg, at: position) else {
                            guard let next = SegmentScanner.resync(seg, after: position) else { break }
                            position = next
                            continue
                        }
                        position += v.size
                        let key = UnsafeRawBufferPointer(rebasing: seg[v.keyOffset..<v.valueOffset])
                        guard v.kind == .put, v.expiry == 0 || v.expiry > t,
                              isCurrent(key: key, sequence: v.sequence, segment: id, offset: v.offset) else {
                            report.recordsDropped += 1
                            continue
                        }
                        if let o = output, o.data.count > 0, o.data.count + v.size > configuration.segmentSizeLimit {
                            try publish(o, report: &report)
                            output = nil
                        }
                        if output == nil { output = Output(id: log.allocateSegmentId()) }
                        let offset = output!.data.count
                        output!.data.append(UnsafeRawBufferPointer(rebasing: seg[v.offset..<(v.offset + v.size)]))
                        HintFormat.append(to: output!.hint, kind: .put, sequence: v.sequence,
                                          offset: offset, size: v.size, expiry: v.expiry, key: key)
                        output!.records += 1
                        output!.maxSequence = max(output!.maxSequence, v.sequence)
                        output!.moved.append((offset, v.sequence))
                        report.recordsKept += 1
                    }
                } }
                try scanned.get()
            }
            if let o = output {
                try publish(o, report: &report)
                output = nil
            }

            // Delete the old segments, oldest content first.
            let ordered = candidates.sorted { $0.info.maxSequence < $1.info.maxSequence }
            for (id, _) in ordered {
                try io.unlink(log.path(id, "hint"))
                try io.unlink(log.path(id))
            }
            log.installMerged([:], removing: candidates.map(\.id))
            try io.syncDirectory(configuration.directory)
        } catch {
            // Published outputs stay: they are valid duplicates, resolved by sequence number, and
            // the next merge (which sees them as closed segments) cleans up.
            if let o = output {
                try? io.unlink(log.path(o.id) + ".tmp")
                try? io.unlink(log.path(o.id, "hint") + ".tmp")
            }
            control.recordError(error)
            throw error
        }
        report.durationNanos = monotonicNanos() - start
        control.recordMerge(report)
        return report
    }

    /// Writes one output segment and its hint durably, publishes them, and points the index at them.
    private func publish(_ o: Output, report: inout MergeReport) throws(StorageError) {
        HintFormat.finish(o.hint, count: o.records)
        let data = log.path(o.id), hint = log.path(o.id, "hint")
        try writeDurably(o.data, to: data + ".tmp")
        try writeDurably(o.hint, to: hint + ".tmp")
        try io.rename(data + ".tmp", data)
        try io.rename(hint + ".tmp", hint)
        try io.syncDirectory(configuration.directory)
        log.installMerged([o.id: SegmentInfo(totalBytes: o.data.count, deadBytes: 0, maxSequence: o.maxSequence,
                                             closed: true, hasHint: true)], removing: [])
        report.bytesAfter += o.data.count
        report.segmentsWritten += 1

        // Switch index locations where the entry is still the copied version.
        var deadBytes = 0
        let base = o.data.bytes
        for m in o.moved {
            guard case let .record(v) = RecordFormat.decode(base, at: m.offset) else { continue }
            let key = UnsafeRawBufferPointer(rebasing: base[v.keyOffset..<v.valueOffset])
            let h = XXH3.hash(key)
            let s = shard(for: h)
            let switched: Bool = s.lock.withLock {
                guard let slot = s.table.find(hash: h, key: key) else { return false }
                let e = s.table[slot]
                guard e.sequence == m.sequence else { return false }
                e.setLocation(segment: o.id, offset: UInt32(m.offset))
                return true
            }
            if !switched { deadBytes += v.size }
        }
        if deadBytes > 0 { log.markDead(segment: o.id, bytes: deadBytes) }
    }

    /// True when the index points at exactly this record. The location matters, not only the sequence
    /// number: after a crash part-way through a merge, published outputs and the old segments both hold
    /// copies of a record with the same sequence; only the one the index uses is copied, so duplicates
    /// die in the next merge instead of being carried forward by every merge after it.
    private func isCurrent(key: UnsafeRawBufferPointer, sequence: UInt64, segment: UInt32, offset: Int) -> Bool {
        let h = XXH3.hash(key)
        let s = shard(for: h)
        return s.lock.withLock {
            guard let slot = s.table.find(hash: h, key: key) else { return false }
            let e = s.table[slot]
            return e.sequence == sequence && e.segment == segment && Int(e.offset) == offset
        }
    }

    private func writeDurably(_ sink: ByteSink, to path: String) throws(StorageError) {
        let fd = try io.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { io.close(fd) }
        try io.write(fd, sink.bytes, path: path)
        try io.fdatasync(fd, path: path)
    }
}
