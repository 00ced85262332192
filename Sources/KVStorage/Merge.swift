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
/// 2. Write both as `.tmp`, fdatasync, rename into place, fsync the directory.
/// 3. Point index entries at the new location, only where the entry still has the copied sequence
///    number (a concurrent write wins; its copy is counted as dead).
/// 4. Delete the old segments (and hints) in ascending order of their highest sequence number,
///    then fsync the directory. If a crash interrupts step 4, every record that hides another is
///    in a segment deleted no earlier than the records it hides, and recovery resolves the
///    remaining duplicates by sequence number.
///
/// Reads and writes continue meanwhile: shard locks are taken per record, briefly.
/// An I/O error aborts the merge (temporary files are removed, old segments stay); it is not
/// fatal for the engine, because the old segments remain durable and authoritative.
extension StorageEngine {
    private struct Output {
        var id: UInt32
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
        var outputs: [Output] = []

        func newOutput() -> Output { Output(id: log.allocateSegmentId()) }

        for (id, info) in candidates {
            report.segmentsMerged += 1
            report.bytesBefore += info.totalBytes
            let bytes = try io.readAll(log.path(id))
            bytes.withUnsafeBytes { seg in
                _ = SegmentScanner.scan(seg) { v in
                    let key = UnsafeRawBufferPointer(rebasing: seg[v.keyOffset..<v.valueOffset])
                    guard v.kind == .put, v.expiry == 0 || v.expiry > t, isCurrent(key: key, sequence: v.sequence) else {
                        report.recordsDropped += 1
                        return
                    }
                    if outputs.isEmpty || (outputs[outputs.count - 1].data.count > 0
                        && outputs[outputs.count - 1].data.count + v.size > configuration.segmentSizeLimit) {
                        outputs.append(newOutput())
                    }
                    let offset = outputs[outputs.count - 1].data.count
                    outputs[outputs.count - 1].data.append(UnsafeRawBufferPointer(rebasing: seg[v.offset..<(v.offset + v.size)]))
                    HintFormat.append(to: outputs[outputs.count - 1].hint, kind: .put, sequence: v.sequence,
                                      offset: offset, size: v.size, expiry: v.expiry, key: key)
                    outputs[outputs.count - 1].records += 1
                    outputs[outputs.count - 1].maxSequence = max(outputs[outputs.count - 1].maxSequence, v.sequence)
                    outputs[outputs.count - 1].moved.append((offset, v.sequence))
                    report.recordsKept += 1
                }
            }
        }

        // Write, sync and publish the new segments.
        do throws(StorageError) {
            for o in outputs {
                HintFormat.finish(o.hint, count: o.records)
                try writeDurably(o.data, to: log.path(o.id) + ".tmp")
                try writeDurably(o.hint, to: log.path(o.id, "hint") + ".tmp")
            }
            for o in outputs {
                try io.rename(log.path(o.id) + ".tmp", log.path(o.id))
                try io.rename(log.path(o.id, "hint") + ".tmp", log.path(o.id, "hint"))
            }
            try io.syncDirectory(configuration.directory)
        } catch {
            for o in outputs {
                for p in [log.path(o.id) + ".tmp", log.path(o.id, "hint") + ".tmp", log.path(o.id), log.path(o.id, "hint")] {
                    try? io.unlink(p)
                }
            }
            control.recordError(error)
            throw error
        }
        var added: [UInt32: SegmentInfo] = [:]
        for o in outputs {
            added[o.id] = SegmentInfo(totalBytes: o.data.count, deadBytes: 0, maxSequence: o.maxSequence, closed: true, hasHint: true)
            report.bytesAfter += o.data.count
        }
        log.installMerged(added, removing: [])

        // Switch index locations where the entry is still the copied version.
        var dead: [UInt32: Int] = [:]
        for o in outputs {
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
                if !switched { dead[o.id, default: 0] += v.size }
            }
        }
        log.markDead(dead)

        // Delete the old segments, oldest content first.
        let ordered = candidates.sorted { $0.info.maxSequence < $1.info.maxSequence }
        for (id, _) in ordered {
            try io.unlink(log.path(id, "hint"))
            try io.unlink(log.path(id))
        }
        log.installMerged([:], removing: candidates.map(\.id))
        try io.syncDirectory(configuration.directory)

        report.segmentsWritten = outputs.count
        report.durationNanos = monotonicNanos() - start
        control.recordMerge(report)
        return report
    }

    private func isCurrent(key: UnsafeRawBufferPointer, sequence: UInt64) -> Bool {
        let h = XXH3.hash(key)
        let s = shard(for: h)
        return s.lock.withLock {
            guard let slot = s.table.find(hash: h, key: key) else { return false }
            return s.table[slot].sequence == sequence
        }
    }

    private func writeDurably(_ sink: ByteSink, to path: String) throws(StorageError) {
        let fd = try io.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { io.close(fd) }
        try io.write(fd, sink.bytes, path: path)
        try io.fdatasync(fd, path: path)
    }
}
