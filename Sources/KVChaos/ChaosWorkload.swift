import Foundation
import KVLoad
import KVSimulator
import NIOCore
import NIOPosix
import RESP

/// The load a chaos run keeps up through every fault, recording what the cluster acknowledged:
/// - unique writes: `SET` of a new key with a value never used before (a lost one cannot hide);
/// - read-modify-write set additions: `KV.GET` a set key, take the union of its siblings' elements, add
///   a new element, `KV.PUT` it with the context that was read. Concurrent adders make siblings; the next
///   adder's merge collapses them. An acknowledged element must never disappear.
/// Each operation goes to a random node that is not down by the current fault.
public final class ChaosWorkload: @unchecked Sendable {
    public static let setKeys = (0..<8).map { "set:\($0)" }

    private let endpoints: [(host: String, port: Int)]
    private let group: EventLoopGroup
    private let lock = NSLock()
    private var stopping = false
    private var threads: [Thread] = []
    private let done = DispatchGroup()
    private var avoid: Set<Int> = []
    private var acked: [String: String] = [:]
    private var elements: [String: Set<String>] = Dictionary(uniqueKeysWithValues: ChaosWorkload.setKeys.map { ($0, []) })
    /// Operations that failed or timed out (not acknowledged; they may or may not have taken effect).
    public private(set) var notAcknowledged = 0
    /// `KV.GET`s of a set key that returned siblings, and the most siblings one returned.
    public private(set) var siblingReads = 0
    public private(set) var mostSiblingsRead = 0

    public init(endpoints: [(host: String, port: Int)], group: EventLoopGroup) {
        self.endpoints = endpoints
        self.group = group
    }

    /// Starts `writers` unique-write threads and `adders` set-addition threads; `seed` fixes their choices.
    public func start(writers: Int = 2, adders: Int = 2, seed: UInt64) {
        for w in 0..<writers {
            spawn(seed: seed &+ UInt64(w) &* 7919) { [self] rng, clients in write(w, &rng, &clients) }
        }
        for a in 0..<adders {
            spawn(seed: seed &+ UInt64(1000 + a) &* 7919) { [self] rng, clients in add(a, &rng, &clients) }
        }
    }

    /// Stops every thread and waits for them.
    public func stop() {
        lock.withLock { stopping = true }
        done.wait()
    }

    /// Nodes operations must not go to (the fault's killed or paused node); empty: any node.
    public func setUnavailable(_ nodes: Set<Int>) { lock.withLock { avoid = nodes } }

    /// What was acknowledged so far: unique key → value, and set key → elements.
    public func snapshot() -> (writes: [String: String], elements: [String: Set<String>]) {
        lock.withLock { (acked, elements) }
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    private func spawn(seed: UInt64, _ body: @escaping @Sendable (inout SplitMix64, inout ReconnectingClients) -> Void) {
        done.enter()
        let thread = Thread { [self] in
            var rng = SplitMix64(seed: seed)
            // Calls wait up to 3 s: a stopped or partitioned node costs a writer little.
            var clients = ReconnectingClients(endpoints: endpoints, group: group, timeout: .seconds(3))
            body(&rng, &clients)
            clients.closeAll()
            done.leave()
        }
        threads.append(thread)
        thread.start()
    }

    private func node(_ rng: inout SplitMix64) -> Int {
        let avoid = lock.withLock { self.avoid }
        let choices = endpoints.indices.filter { !avoid.contains($0) }
        return (choices.isEmpty ? Array(endpoints.indices) : choices).randomElement(using: &rng)!
    }

    private func failed() {
        lock.withLock { notAcknowledged += 1 }
        usleep(20_000)
    }

    private func write(_ w: Int, _ rng: inout SplitMix64, _ clients: inout ReconnectingClients) {
        var seq = 0
        while !isStopping {
            seq += 1
            let key = "u\(w):\(seq)", value = "v\(w).\(seq).\(rng.next() >> 34)"
            do {
                let reply = try clients.client(node(&rng)).call(["SET", key, value])
                guard case .simpleString = reply else { failed(); continue }
                lock.withLock { acked[key] = value }
            } catch {
                failed()
            }
        }
    }

    private func add(_ a: Int, _ rng: inout SplitMix64, _ clients: inout ReconnectingClients) {
        var seq = 0
        while !isStopping {
            seq += 1
            let key = Self.setKeys.randomElement(using: &rng)!, element = "a\(a).\(seq)"
            do {
                let c = try clients.client(node(&rng))
                guard case .array(let parts?) = try c.call(["KV.GET", key]), parts.count == 2,
                      case .bulkString(let context) = parts[0], case .array(let values?) = parts[1] else { failed(); continue }
                if values.count > 1 {
                    lock.withLock {
                        siblingReads += 1
                        mostSiblingsRead = max(mostSiblingsRead, values.count)
                    }
                }
                var members = Self.elements(of: values)
                members.insert(element)
                var put = ["KV.PUT", key, members.sorted().joined(separator: ",")].map { ByteBuffer(string: $0) }
                if let context, context.readableBytes > 0 { put += [ByteBuffer(string: "CONTEXT"), context] }
                // KV.PUT answers with the new causal context; an error reply is not an acknowledgement.
                if case .error = try c.call(bytes: put) { failed(); continue }
                lock.withLock { _ = elements[key, default: []].insert(element) }
            } catch {
                failed()
            }
        }
    }

    /// The union of the elements in a set key's sibling values (comma-separated).
    static func elements(of values: [RESPValue]) -> Set<String> {
        var out = Set<String>()
        for v in values {
            guard case .bulkString(let b?) = v else { continue }
            for e in String(buffer: b).split(separator: ",") where !e.isEmpty { out.insert(String(e)) }
        }
        return out
    }
}
