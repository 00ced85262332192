import KVStorage
import NIOCore
import RESP

#if canImport(Glibc)
import Glibc
#endif

/// INFO: the server, clients, memory, persistence, stats and keyspace sections in Redis's
/// `name:value` text format, so tools that parse Redis's INFO read ours.
extension CommandExecutor {
    static let sectionNames = ["server", "clients", "memory", "persistence", "stats", "keyspace", "cluster"]

    func info(_ command: RESPCommand, _ session: ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        var wanted: Set<String> = []
        for i in 1..<max(command.count, 1) {
            let s = ArgumentDecoding.string(command[i]).lowercased()
            if s == "all" || s == "everything" || s == "default" {
                wanted.formUnion(Self.sectionNames)
            } else {
                wanted.insert(s)
            }
        }
        if wanted.isEmpty { wanted = Set(Self.sectionNames) }
        out.writeRESPBulkString(infoText(sections: wanted))
        return .replied
    }

    func infoText(sections: Set<String>) -> String {
        var text = ""
        for name in Self.sectionNames where sections.contains(name) {
            if !text.isEmpty { text += "\r\n" }
            text += "# \(name.prefix(1).uppercased() + name.dropFirst())\r\n"
            for (key, value) in section(name) {
                text += "\(key):\(value)\r\n"
            }
        }
        return text
    }

    private func section(_ name: String) -> [(String, String)] {
        let c = context.configuration
        switch name {
        case "server":
            let now = StorageConfiguration.wallClockMillis()
            let uptime = (now - context.startedAtMillis) / 1000
            return [
                ("redis_version", "7.0.0"),
                ("kvnode_version", Self.serverVersion),
                ("redis_mode", "standalone"),
                ("os", "Linux"),
                ("arch_bits", "64"),
                ("process_id", String(getpid())),
                ("run_id", context.runID),
                ("tcp_port", String(context.boundPort.load(ordering: .relaxed))),
                ("bind", c.host),
                ("tls", c.tls == nil ? "no" : "yes"),
                ("tls_auth_clients", c.tls?.requiresClientCertificates == true ? "yes" : "no"),
                ("tls_peers", c.cluster?.peerTLS == nil ? "no" : "yes"),
                ("uptime_in_seconds", String(uptime)),
                ("uptime_in_days", String(uptime / 86400)),
                ("io_threads_active", String(c.threads)),
                ("executable", "kvnode"),
            ]
        case "clients":
            return [
                ("connected_clients", String(context.stats.connectedClients.load(ordering: .relaxed))),
                ("maxclients", String(c.maxClients)),
            ]
        case "memory":
            return memorySection()
        case "persistence":
            let s = engine.stats()
            let recovery = engine.recoveryReport
            return [
                ("loading", "0"),
                ("storage_engine", "log-structured (bitcask-style)"),
                ("aof_enabled", "1"),
                ("appendfsync", c.fsync.rawValue),
                ("segments", String(s.segments)),
                ("disk_bytes", String(s.diskBytes)),
                ("dead_bytes", String(s.deadBytes)),
                ("pending_write_bytes", String(s.pendingBytes)),
                ("log_writes", String(s.writes)),
                ("fsyncs", String(s.fsyncs)),
                ("fsync_avg_usec", s.fsyncs > 0 ? String(s.fsyncTotalNanos / UInt64(s.fsyncs) / 1000) : "0"),
                ("fsync_max_usec", String(s.fsyncMaxNanos / 1000)),
                ("merges", String(s.merges)),
                ("merge_in_progress", s.mergeInProgress ? "1" : "0"),
                ("last_merge_duration_usec", String((s.lastMerge?.durationNanos ?? 0) / 1000)),
                ("recovery_records_replayed", String(recovery.recordsReplayed)),
                ("recovery_hint_files_used", String(recovery.hintFilesUsed)),
                ("recovery_truncated_tails", String(recovery.truncatedTails.count)),
                ("recovery_corrupt_records", String(recovery.corruptRecords.count)),
                ("recovery_duration_usec", String(recovery.durationNanos / 1000)),
                ("last_storage_error", s.lastError.map { "\($0)" } ?? ""),
            ]
        case "stats":
            let t = context.stats.totals()
            return [
                ("total_connections_received", String(context.stats.connectionsReceived.load(ordering: .relaxed))),
                ("total_commands_processed", String(t.commands)),
                ("total_net_input_bytes", String(t.netInputBytes)),
                ("total_net_output_bytes", String(t.netOutputBytes)),
                ("rejected_connections", String(context.stats.rejectedConnections.load(ordering: .relaxed))),
                ("keyspace_hits", String(t.keyspaceHits)),
                ("keyspace_misses", String(t.keyspaceMisses)),
                ("total_error_replies", String(t.errorReplies)),
                ("protocol_errors", String(t.protocolErrors)),
            ]
        case "cluster":
            return clusterSection()
        case "keyspace":
            // In cluster mode the engine also holds hints and the node's own metadata: count objects only (as DBSIZE).
            let keys = context.cluster.map { $0.store.objectCount } ?? engine.count
            return keys > 0 ? [("db0", "keys=\(keys),expires=0,avg_ttl=0")] : []
        default:
            return []
        }
    }

    /// The peer transport's counters (`peer_…`), as last published by the cluster loop.
    private func peerFields() -> [(String, String)] {
        let stats = context.peerStats.withLock { $0 }
        return stats.infoFields.map { ($0.name, String($0.value)) }
    }

    private func clusterSection() -> [(String, String)] {
        guard let shell = context.cluster else { return [("cluster_enabled", "0")] }
        let s = shell.snapshot.withLockedValue { $0 }
        let c = shell.config
        return [
            ("cluster_enabled", "1"),
            ("cluster_node_id", s.nodeID),
            ("cluster_state", s.ready ? "ok" : "waiting_for_seeds"),
            ("cluster_missing_seeds", s.missingSeeds.joined(separator: ",")),
            ("cluster_members", String(s.members)),
            ("cluster_members_up", String(s.membersUp)),
            ("cluster_n", String(c.n)),
            ("cluster_r", String(c.r)),
            ("cluster_w", String(c.w)),
            ("cluster_last_write_wins", c.lastWriteWins ? "1" : "0"),
            ("cluster_pending_requests", String(s.pendingRequests)),
            ("cluster_hints", String(s.hints)),
            ("cluster_handoff_retries", String(s.handoffRetries)),
            ("cluster_held_effect_batches", String(s.heldEffectBatches)),
            ("cluster_client_requests", String(s.stats.clientRequests)),
            ("cluster_peer_messages_in", String(s.stats.peerMessagesIn)),
            ("cluster_peer_messages_out", String(s.stats.peerMessagesOut)),
            ("cluster_peer_messages_undeliverable", String(s.stats.undeliverable)),
            ("cluster_peer_messages_dropped", String(s.stats.droppedPeerMessages)),
            ("cluster_storage_failures", String(s.stats.storageFailures)),
            ("cluster_hot_objects", String(s.hotObjects.count)),
            ("cluster_hot_object_hits", String(s.hotObjects.hits)),
            ("cluster_hot_object_misses", String(s.hotObjects.misses)),
            ("cluster_suspicions", String(s.stats.suspicions)),
            ("cluster_members_declared_down", String(s.stats.downs)),
            ("cluster_local_health", String(s.localHealth)),
            ("cluster_rebalance_keys_sent", String(s.rebalance.keysSent)),
            ("cluster_rebalance_bytes_sent", String(s.rebalance.bytesSent)),
            ("cluster_rebalance_keys_received", String(s.rebalance.keysReceived)),
            ("cluster_rebalance_keys_dropped", String(s.rebalance.keysDropped)),
            ("cluster_rebalance_bytes_received", String(s.rebalance.bytesReceived)),
            ("cluster_rebalance_retries", String(s.rebalance.retries)),
            ("cluster_rebalance_ranges_moved", String(s.rebalance.ranges.count)),
            ("cluster_rebalancing", s.rebalancing ? "1" : "0"),
            ("cluster_rebalance_last_ms", String(s.stats.lastRebalanceMillis)),
            ("cluster_rebalance_total_ms", String(s.stats.rebalanceMillis)),
            ("cluster_ring_members", String(s.ringMembers)),
            ("cluster_ring_changes", String(s.stats.ringChanges)),
            ("cluster_leave_state", s.leaveState),
            ("anti_entropy_enabled", s.antiEntropy == nil ? "0" : "1"),
            ("anti_entropy_sessions", String(s.antiEntropy?.sessions ?? 0)),
            ("anti_entropy_ranges_compared", String(s.antiEntropy?.rangesCompared ?? 0)),
            ("anti_entropy_keys_repaired", String((s.antiEntropy?.keysReceived ?? 0))),
            ("anti_entropy_bytes_exchanged", String(s.antiEntropy?.bytesExchanged ?? 0)),
        ] + peerFields()
    }

    private func memorySection() -> [(String, String)] {
        let a = AllocatorInfo.read()
        let s = engine.stats()
        let rss = AllocatorInfo.residentSetSize()
        let used = a.isProcessAllocator ? a.allocated : rss
        let keys = max(s.keys, 0)
        let maxMemory = context.configuration.maxMemoryBytes ?? 0
        return [
            ("used_memory", String(used)),
            ("used_memory_human", humanBytes(used)),
            ("used_memory_rss", String(rss)),
            ("used_memory_rss_human", humanBytes(rss)),
            ("used_memory_peak_rss", String(AllocatorInfo.peakResidentSetSize())),
            ("mem_allocator", a.name),
            ("allocator_is_process_malloc", a.isProcessAllocator ? "1" : "0"),
            ("allocator_allocated", String(a.allocated)),
            ("allocator_active", String(a.active)),
            ("allocator_resident", String(a.resident)),
            ("allocator_mapped", String(a.mapped)),
            ("allocator_metadata", String(a.metadata)),
            ("allocator_retained", String(a.retained)),
            ("mem_fragmentation_ratio", a.allocated > 0 ? formatRatio(Double(rss) / Double(a.allocated)) : "0"),
            ("dataset_keys", String(keys)),
            ("dataset_key_bytes", String(s.keyBytes)),
            ("dataset_value_bytes", String(s.valueBytes)),
            ("dataset_index_bytes", String(s.indexBytes)),
            ("dataset_bytes_per_key", keys > 0 ? String((s.keyBytes + s.valueBytes + s.indexBytes) / keys) : "0"),
            ("used_memory_per_key", keys > 0 ? String(used / keys) : "0"),
            ("used_memory_dataset", String(s.keyBytes + s.valueBytes + s.indexBytes)),
            ("maxmemory", String(maxMemory)),
            ("maxmemory_human", humanBytes(maxMemory)),
            ("maxmemory_policy", "noeviction"),
        ]
    }

    private func humanBytes(_ n: Int) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var v = Double(n)
        var u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return formatRatio(v) + units[u]
    }

    private func formatRatio(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
