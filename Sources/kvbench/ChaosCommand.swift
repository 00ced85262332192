import ArgumentParser
import Foundation
import KVChaos
import KVWorkload

/// The `unshare` process running a chaos run, for the outer process's SIGTERM handler.
nonisolated(unsafe) private var chaosUnsharePID: pid_t = 0

/// `kvbench chaos`: fault rounds against real kvnode processes in a private network namespace, with a
/// checker that every acknowledged write and set element survives and a convergence time per round.
struct ChaosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Chaos on real kvnode processes: faults under writes, then a check that nothing acknowledged was lost.",
        discussion: """
        Starts 5 kvnode processes (--fsync always, N=3 R=2 W=2) on 127.0.0.2-6 inside a private network, PID \
        and mount namespace (so every process, address and iptables rule it makes dies with it, even on a crash), \
        keeps unique writes and read-modify-write set additions (KV.GET, merge the siblings, KV.PUT with the \
        context) running, and injects one fault per round, cycling: kill -9 and restart; SIGSTOP/SIGCONT; one \
        node isolated; a 2|3 split; an asymmetric cut; 20 % packet loss; a monotonic clock jump (restart in a \
        time namespace an hour or a day ahead); a kill during a split. After each heal it waits until every node \
        sees every other up, no hints are left, every write acknowledged since the last heal is on all N \
        replicas and every acknowledged set element is in every replica's copy, and prints how long that took.

        Then a --last-write-wins cluster runs --lww-rounds rounds: its losses are reported, not failed \
        (last-write-wins drops concurrent read-modify-writes by design).

        Exits 1 when the default mode lost an acknowledged write or set element, or a round did not converge. \
        Needs root (namespaces, iptables) and util-linux unshare. The same --seed gives the same fault \
        schedule (timing still varies).
        """
    )

    @Option(help: "kvnode executable (default: the one next to kvbench).")
    var kvnode: String?

    @Option(help: "Fault rounds in the default (siblings) mode.")
    var rounds = 20

    @Option(name: .customLong("lww-rounds"), help: "Fault rounds in last-write-wins mode afterwards (0 skips it).")
    var lwwRounds = 4

    @Option(help: "Seed of the fault schedule and the workload's choices (default: random, printed).")
    var seed: UInt64?

    @Option(name: .customLong("fault-seconds"), help: ArgumentHelp("How long each fault lasts, drawn per round.", valueName: "min-max"))
    var faultSeconds = "2-5"

    @Option(help: "Write chaos.json (every round and the totals) and chaos-rounds.csv here.")
    var out: String?

    @Flag(help: "Keep the nodes' data directories and logs (printed at the end).")
    var keep = false

    @Option(name: .customLong("node-arg"), parsing: .unconditionalSingleValue, help: "An extra kvnode flag for every node (repeatable), e.g. --node-arg=--no-anti-entropy.")
    var nodeArguments: [String] = []

    /// Writes a line to standard output at once (progress must show while the run goes on, also when piped).
    func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static let namespaceMarker = "KVBENCH_CHAOS_NAMESPACE"

    func validate() throws {
        guard rounds >= 1, lwwRounds >= 0 else { throw ValidationError("--rounds must be at least 1 and --lww-rounds at least 0") }
        guard parsedFaultSeconds != nil else { throw ValidationError("--fault-seconds: expected min-max seconds such as 2-5") }
    }

    var parsedFaultSeconds: ClosedRange<Double>? {
        let parts = faultSeconds.split(separator: "-").compactMap { Double($0) }
        guard parts.count == 2, parts[0] > 0, parts[0] <= parts[1] else { return nil }
        return parts[0]...parts[1]
    }

    func run() throws {
        if ProcessInfo.processInfo.environment[Self.namespaceMarker] != "1" {
            try reexecInNamespace()
            return
        }
        // This process is the first of its PID namespace: when it exits, the kernel kills every process in
        // the namespace. PID 1 only gets signals it handles, so Ctrl-C and SIGTERM need a handler to end the run.
        signal(SIGINT) { _ in _exit(130) }
        signal(SIGTERM) { _ in _exit(143) }
        let seed = self.seed ?? UInt64.random(in: 0..<(1 << 40))
        say("chaos seed \(seed) (the same fault schedule again: --seed \(seed))")
        let directory = try makeDirectory()
        var options = ChaosOptions(kvnode: kvnode ?? siblingKVNode(), directory: directory, seed: seed)
        options.nodeArguments = nodeArguments
        options.faultSeconds = parsedFaultSeconds!
        let run = ChaosRun(options: options)
        var campaigns: [ChaosCampaignResult] = []
        var failed = false
        do {
            let main = try run.campaign(rounds: rounds, lastWriteWins: false, port: options.port) { say("  " + $0) }
            campaigns.append(main)
            say(Self.summary(main, nodes: options.hosts.count))
            failed = main.missingCopies > 0 || main.lostElements > 0 || !main.unconverged.isEmpty
            if lwwRounds > 0 {
                let lww = try run.campaign(rounds: lwwRounds, lastWriteWins: true, port: options.port + 100) { say("  " + $0) }
                campaigns.append(lww)
                say(Self.summary(lww, nodes: options.hosts.count))
            }
        } catch {
            say("chaos: the run stopped: \(error) (node logs: \(directory))")
            throw ExitCode(2)
        }
        if let out { try Self.write(campaigns, seed: seed, to: out) }
        if keep || failed { say("node data and logs: \(directory)") } else { try? FileManager.default.removeItem(atPath: directory) }
        say(failed ? "chaos: FAILED" : "chaos: all checks passed")
        if failed { throw ExitCode(1) }
    }

    /// Runs this same command again inside new network, PID and mount namespaces (root only).
    private func reexecInNamespace() throws {
        guard geteuid() == 0 else {
            throw ValidationError("kvbench chaos needs root: it makes a private network namespace and iptables rules")
        }
        for tool in ["unshare", "iptables", "ip"] where !Shell.has(tool) {
            throw ValidationError("kvbench chaos needs \(tool) (Debian: util-linux, iptables, iproute2; scripts/setup.sh installs them)")
        }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // --kill-child: if this process goes, the namespace's first process gets SIGKILL and takes every
        // process in the PID namespace with it.
        // Loopback comes up before this program starts again: Foundation's run loop (which `Process` needs
        // to see children exit) sets up loopback sockets once, at first use, and fails for good without it.
        process.arguments = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child",
                             "/bin/sh", "-c", "ip link set lo up && exec \"$0\" \"$@\"", me]
            + Array(CommandLine.arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment[Self.namespaceMarker] = "1"
        process.environment = environment
        try process.run()
        // If this process is told to stop, take unshare down with SIGKILL: --kill-child then kills the run.
        chaosUnsharePID = process.processIdentifier
        signal(SIGTERM) { _ in
            if chaosUnsharePID > 0 { kill(chaosUnsharePID, SIGKILL) }
            _exit(143)
        }
        process.waitUntilExit()
        if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
    }

    private func makeDirectory() throws -> String {
        var template = Array("/tmp/kvbench-chaos.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ValidationError("cannot make a directory under /tmp")
        }
        return String(cString: made)
    }

    static func summary(_ c: ChaosCampaignResult, nodes: Int) -> String {
        let convergence = c.convergence.map { String(format: "p50 %.1f s, max %.1f s", $0.p50, $0.max) } ?? "none converged"
        var lines = ["\(c.mode): \(c.rounds.count) fault rounds over \(nodes) nodes in \(Int(c.seconds)) s; \(c.writes) writes and "
                     + "\(c.elements) set elements acknowledged (\(c.notAcknowledged) operations not)",
                     "  convergence after heal: \(convergence)"
                     + (c.unconverged.isEmpty ? "" : "; rounds NOT converged: \(c.unconverged.map(String.init).joined(separator: ", "))"),
                     "  acknowledged writes lost or missing a replica: \(c.missingCopies); set elements lost: \(c.lostElements)"
                     + (c.elements > 0 ? String(format: " (%.1f %%)", 100.0 * Double(c.lostElements) / Double(c.elements)) : ""),
                     "  siblings: \(c.siblingReads) set reads found siblings (most \(c.mostSiblingsRead)); most left on a replica at the end \(c.mostSiblingsAtEnd)"]
        if c.mode == "last-write-wins" { lines.append("  (reported, not checked: last-write-wins keeps one of concurrent writes)") }
        return lines.joined(separator: "\n")
    }

    static func write(_ campaigns: [ChaosCampaignResult], seed: UInt64, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        struct Report: Encodable {
            var seed: UInt64
            var campaigns: [ChaosCampaignResult]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(Report(seed: seed, campaigns: campaigns)).write(to: URL(fileURLWithPath: directory + "/chaos.json"))
        var csv = "mode,round,fault,summary,converged_s,writes,elements\n"
        for c in campaigns {
            for r in c.rounds {
                let converged = r.convergedSeconds.map { String(format: "%.2f", $0) } ?? ""
                csv += "\(c.mode),\(r.round),\(r.fault.rawValue),\"\(r.summary)\",\(converged),\(r.writes),\(r.elements)\n"
            }
        }
        try csv.write(toFile: directory + "/chaos-rounds.csv", atomically: true, encoding: .utf8)
    }
}
