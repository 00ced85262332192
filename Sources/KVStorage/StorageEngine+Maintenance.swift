extension StorageEngine {
    /// Removes up to `limit` expired keys, sweeping each shard from where the last sweep stopped
    /// and examining at most `20 * limit` slots in total. Returns how many keys were removed.
    public func expireSome(limit: Int) -> Int {
        guard limit > 0 else { return 0 }
        let t = now()
        var removed = 0
        var budget = max(limit * 20, 64)
        let perShard = max(budget / shards.count, 16)
        for s in shards {
            if removed >= limit || budget <= 0 { break }
            var dead: [UInt32: Int] = [:]
            s.lock.lock()
            let cap = s.table.capacity
            var i = s.sweepCursor % cap
            var examined = 0
            while examined < perShard && removed < limit {
                if let raw = s.table.raw(at: i), Entry(raw).isExpired(now: t) {
                    let e = Entry(raw)
                    dead[e.segment, default: 0] += e.recordSize
                    s.removeAndFree(slot: i)
                    removed += 1
                    // backward shift may have moved another entry into slot i: look at it again
                } else {
                    i = (i + 1) % cap
                }
                examined += 1
            }
            s.sweepCursor = i
            s.lock.unlock()
            budget -= examined
            log.markDead(dead)
        }
        return removed
    }

    /// A snapshot of counters (takes each lock briefly).
    public func stats() -> StorageStats {
        var st = StorageStats()
        for s in shards {
            s.lock.withLock {
                st.keys += s.table.count
                st.keyBytes += s.keyBytes
                st.valueBytes += s.valueBytes
                st.indexBytes += s.table.slotBytes + s.heapBytes - s.keyBytes - s.valueBytes
            }
        }
        let segments = log.snapshotSegments()
        st.segments = segments.values.filter { $0.totalBytes > 0 }.count
        st.diskBytes = segments.values.reduce(0) { $0 + $1.totalBytes }
        st.deadBytes = segments.values.reduce(0) { $0 + $1.deadBytes }
        st.pendingBytes = log.pendingBytes
        log.lock.withLock {
            st.writes = log.writes
            st.fsyncs = log.fsyncs
            st.fsyncTotalNanos = log.fsyncTotalNanos
            st.fsyncMaxNanos = log.fsyncMaxNanos
            st.lastFsyncTimeMillis = log.lastFsyncMillis
        }
        (st.merges, st.lastMerge, st.mergeInProgress) = control.mergeSnapshot
        st.lastError = control.lastError
        st.fsync = configuration.fsync
        return st
    }

    /// Waits for a running merge, drains pending writes, fsyncs and stops the writer thread.
    /// Idempotent. Afterwards writes throw `.closed`; reads still see the in-memory data.
    /// Throws the log's fatal error if it failed (then the tail may not be durable).
    public func close() throws {
        guard control.markClosed() else { return }
        control.mergeLock.lock()
        defer { control.mergeLock.unlock() }
        if let fatal = log.shutdown() { throw fatal }
    }

    /// Starts a merge on a background thread when the closed segments' dead bytes pass both thresholds.
    func maybeStartBackgroundMerge() {
        let closed = log.closedSegments()
        let total = closed.reduce(0) { $0 + $1.info.totalBytes }
        let dead = closed.reduce(0) { $0 + $1.info.deadBytes }
        guard total > 0, dead >= configuration.mergeMinDeadBytes,
              Double(dead) / Double(total) > configuration.mergeDeadRatio,
              control.tryStartBackgroundMerge() else { return }
        spawnDetachedThread(niceness: 10) { [self] in
            defer { control.backgroundMergeFinished() }
            do {
                let r = try mergeNow()
                logger.info("background merge done", metadata: [
                    "segments": "\(r.segmentsMerged)", "bytesBefore": "\(r.bytesBefore)", "bytesAfter": "\(r.bytesAfter)",
                ])
            } catch let error as StorageError where error.kind == .closed {
                return  // the engine closed before the merge began
            } catch {
                logger.error("background merge failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
