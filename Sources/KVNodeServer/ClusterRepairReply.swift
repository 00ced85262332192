import KVAntiEntropy
import KVClusterShell
import NIOCore
import RESP

extension ClusterReplies {
    /// `KV.REPAIR`: runs a session for every range this node replicates with every other replica and
    /// answers, once all finished, with `name:value` lines (INFO style) of what they did.
    static func repair(_ shell: ClusterShell, _ caller: EventLoop, _ allocator: ByteBufferAllocator,
                       _ done: @escaping @Sendable (ByteBuffer) -> Void) {
        shell.repairAll(on: caller) { result in
            var out = allocator.buffer(capacity: 256)
            switch result {
            case .failure(let refused):
                out.writeRESPError("ERR \(refused.reason)")
            case .success(let t):
                out.writeRESPBulkString(repairText(t))
            }
            done(out)
        }
    }

    static func repairText(_ t: AntiEntropyTotals) -> String {
        [("sessions", t.sessions), ("ranges_compared", t.rangesCompared), ("ranges_in_sync", t.rangesInSync),
         ("sessions_aborted", t.aborted), ("keys_sent", t.keysSent), ("keys_received", t.keysReceived),
         ("bytes_exchanged", t.bytesExchanged), ("differing_object_bytes", t.differingObjectBytes)]
            .map { "\($0.0):\($0.1)\r\n" }.joined()
    }
}
