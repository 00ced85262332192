import ArgumentParser
import Foundation
import KVClusterControl
import KVLoad
import KVScenario
import KVWorkload

/// `kvbench run kvnode --scenario FILE`: starts the scenario's kvnode cluster, loads the workload's
/// records, runs the workload while the scenario's events happen on schedule and the nodes are
/// sampled twice a second, then reports what each event cost and stops the cluster.
struct ScenarioRun {
    let scenario: Scenario
    let kvnode: String
    let out: String?
    let keepCluster: Bool
    let configuration: (_ hosts: [String]) -> RESPBindingConfiguration
    let quiet: Bool

    /// Runs it; returns the run's result (the caller prints and writes it) and writes the scenario's files.
    func execute(spec baseSpec: WorkloadSpec, threads: Int?, target: Double?, duration: Double?, warmup: Warmup?) throws -> RunResult {
        let seconds = duration ?? scenario.duration ?? (baseSpec.maxExecutionTime > 0 ? baseSpec.maxExecutionTime : nil)
        guard let seconds, seconds > 0 else {
            throw ValidationError("a scenario run needs a duration: run.duration in the scenario, --duration, or maxexecutiontime")
        }
        if let last = scenario.events.last, last.at > seconds {
            throw ValidationError("the scenario's last event (\(last.at) s) is after the end of the run (\(seconds) s)")
        }
        let directory = out.map { $0 + "/cluster" } ?? NSTemporaryDirectory() + "kvbench-scenario-\(getpid())"
        let cluster = try LocalCluster(kvnode: kvnode, directory: directory, spec: scenario.cluster)
        log("scenario \(scenario.name): starting \(scenario.cluster.nodes) kvnode processes (logs and data in \(directory))")
        defer {
            cluster.stopAll()
            if !keepCluster {
                for node in cluster.nodes { try? FileManager.default.removeItem(atPath: directory + "/" + node.id) }
                if out == nil { try? FileManager.default.removeItem(atPath: directory) }
            }
        }
        try cluster.start()

        // Load phase: the records the run reads, unmeasured by the scenario.
        let loadPlan = RunPlan(spec: baseSpec, phase: .load, threads: threads, targetRate: 0, duration: 0, warmup: Warmup.none)
        let loaded = try RESPDriver.run(plan: loadPlan, configuration: configuration(cluster.liveAddresses), bindingName: "kvnode")
        log("loaded \(loaded.operations) records in \(String(format: "%.1f", loaded.elapsedSeconds)) s (\(loaded.errors()) errors)")

        var spec = baseSpec
        spec.operationCount = 0  // the scenario's duration ends the run
        var plan = RunPlan(spec: spec, phase: .run, threads: threads, targetRate: target, duration: seconds,
                           warmup: warmup ?? scenario.warmup.map { Warmup.seconds($0) })
        let rateEvents = scenario.events.filter { $0.action == .rate }
        if !rateEvents.isEmpty {
            // Rate changes become the run's phases: the pacer follows them (warm-up included, as phases are).
            guard plan.phases.isEmpty else { throw ValidationError("a scenario with rate events cannot be combined with the phases property") }
            if case .operations = plan.warmup { throw ValidationError("a scenario with rate events needs a warm-up in seconds") }
            let total = plan.warmupSeconds + seconds
            let starts = [0.0] + rateEvents.map(\.at)
            let rates = [plan.targetRate] + rateEvents.map { $0.rate ?? 0 }
            plan.phases = starts.indices.compactMap { i in
                let end = i + 1 < starts.count ? starts[i + 1] : total
                return end > starts[i] ? Phase(duration: end - starts[i], startRate: rates[i], endRate: rates[i]) : nil
            }
        }
        let t0 = Date().timeIntervalSince1970
        let sampler = Sampler(cluster: cluster, t0: t0)
        let events = EventDriver(cluster: cluster, scenario: scenario, t0: t0, log: log)
        let tracker = WriteTracker(cluster: cluster)
        sampler.start()
        tracker.start()
        events.start()
        var result = try RESPDriver.run(plan: plan, configuration: configuration(cluster.liveAddresses), bindingName: "kvnode",
                                        status: quiet ? nil : StatusLine())
        let executed = events.finish()
        tracker.stop()
        let samples = sampler.finish()
        let settled = waitUntilBalanced(cluster, seconds: 60)
        let check = tracker.verify()

        // Align everything on the run's own start (the run began after discovery, a little after t0).
        let shift = result.startTime - t0
        let alignedEvents = executed.map { e -> ExecutedEvent in var e = e; e.time -= shift; return e }
        let alignedSamples = samples.map { s -> ClusterSample in var s = s; s.time -= shift; return s }
        let series = try Self.loadSeries(result)
        let runSeconds = Double(series.operations.count)
        let reports = EventAnalysis.reports(events: alignedEvents, load: series, samples: alignedSamples, runSeconds: runSeconds)
        var notes = events.notes
        notes.append("acknowledged writes lost: \(check.lost) of \(check.acknowledged) tracked (\(check.attempted) attempted, "
            + "\(check.unreadable) unreadable)" + (settled ? "" : "; read back while still rebalancing")
            + (check.lostKeys.isEmpty ? "" : "; lost: " + check.lostKeys.joined(separator: " ")))
        let (shares, ratio) = ScenarioReports.nodeShares(alignedSamples)
        if !shares.isEmpty {
            notes.append("node shares (client requests + peer messages): "
                + shares.map { "\($0.0) \(String(format: "%.1f", $0.1 * 100))%" }.joined(separator: ", ")
                + String(format: "; max/mean %.2f", ratio))
        }
        result.notes.append("scenario \(scenario.name): \(scenario.events.count) events on \(scenario.cluster.nodes) nodes; events.csv and cluster.csv have the details")
        print("== scenario \(scenario.name)")
        print(ScenarioReports.table(reports), terminator: "")
        for note in notes { print("   " + note) }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try ScenarioReports.eventsCSV(reports).write(toFile: out + "/events.csv", atomically: true, encoding: .utf8)
            try ScenarioReports.clusterCSV(alignedSamples).write(toFile: out + "/cluster.csv", atomically: true, encoding: .utf8)
            let writesCheck = ["attempted": check.attempted, "acknowledged": check.acknowledged, "lost": check.lost,
                               "unreadable": check.unreadable, "settled": settled ? 1 : 0]
            try ScenarioReports.json(scenario: scenario, reports: reports, samples: alignedSamples, notes: notes, writesCheck: writesCheck)
                .write(toFile: out + "/scenario.json", atomically: true, encoding: .utf8)
        }
        return result
    }

    private func log(_ text: String) { writeToStandardError(text + "\n") }

    /// Waits (up to `seconds`) until no running node is rebalancing; false on timeout.
    private func waitUntilBalanced(_ cluster: LocalCluster, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let s = cluster.sample(time: 0)
            if s.nodes.allSatisfy({ !$0.reachable || !$0.rebalancing }) { return true }
            usleep(250_000)
        }
        return false
    }

    /// Operations and errors per interval, and window percentiles from the interval logs (intended
    /// times in open loop, service times in closed loop).
    static func loadSeries(_ r: RunResult) throws -> LoadSeries {
        let count = (r.rows.map(\.second).max() ?? -1) + 1
        var ops = Array(repeating: 0, count: count), errors = Array(repeating: 0, count: count)
        let names = Set(OperationKind.allCases.map(\.ycsbName))
        for row in r.rows where names.contains(row.operation) {
            ops[row.second] += Int(row.stats.count)
            errors[row.second] += Int(row.errors)
        }
        var perInterval: [Int: LatencyHistogram] = [:]
        for lines in r.logLines.values {
            for entry in try IntervalLog.parse(lines.joined(separator: "\n")) {
                let wanted = r.openLoop ? (entry.tag?.hasPrefix("intended.") ?? false) : entry.tag == nil
                guard wanted else { continue }
                let index = Int((entry.start / max(entry.length, 1e-9)).rounded())
                if perInterval[index] == nil { perInterval[index] = entry.histogram } else { perInterval[index]!.add(entry.histogram) }
            }
        }
        let frozen = perInterval
        return LoadSeries(operations: ops, errors: errors) { from, to in
            var merged: LatencyHistogram?
            for i in from..<max(from, to) {
                guard let h = frozen[i] else { continue }
                if merged == nil { merged = h } else { merged!.add(h) }
            }
            guard let merged, merged.totalCount > 0 else { return nil }
            return (Double(merged.valueAtPercentile(99)) / 1000, Double(merged.valueAtPercentile(99.9)) / 1000, Int(merged.totalCount))
        }
    }
}

/// Samples every node twice a second on its own thread until `finish`.
final class Sampler: @unchecked Sendable {
    private let cluster: LocalCluster
    private let t0: Double
    private let lock = NSLock()
    private var samples: [ClusterSample] = []
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    init(cluster: LocalCluster, t0: Double) {
        self.cluster = cluster
        self.t0 = t0
    }

    func start() {
        Thread { [self] in
            while !lock.withLock({ stopped }) {
                let began = Date().timeIntervalSince1970
                // Stamped when the round ends: a change is never seen earlier than it was.
                var s = cluster.sample(time: 0)
                s.time = Date().timeIntervalSince1970 - t0
                lock.withLock { samples.append(s) }
                let wait = 0.5 - (Date().timeIntervalSince1970 - began)
                if wait > 0 { usleep(UInt32(wait * 1e6)) }
            }
            done.signal()
        }.start()
    }

    func finish() -> [ClusterSample] {
        lock.withLock { stopped = true }
        done.wait()
        return lock.withLock { samples }
    }
}

/// Carries out the scenario's events at their times on its own thread (hot-key storms and timed
/// resumes on threads of their own) and records when each happened.
final class EventDriver: @unchecked Sendable {
    private let cluster: LocalCluster
    private let scenario: Scenario
    private let t0: Double
    private let log: (String) -> Void
    private let lock = NSLock()
    private var executed: [ExecutedEvent] = []
    private(set) var notes: [String] = []
    private var stopped = false
    private let side = DispatchGroup()
    private let done = DispatchSemaphore(value: 0)

    init(cluster: LocalCluster, scenario: Scenario, t0: Double, log: @escaping (String) -> Void) {
        self.cluster = cluster
        self.scenario = scenario
        self.t0 = t0
        self.log = log
    }

    private func now() -> Double { Date().timeIntervalSince1970 - t0 }

    func start() {
        // A pause with a duration is a pause and a resume.
        var schedule: [ScenarioEvent] = []
        for e in scenario.events {
            schedule.append(e)
            if e.action == .pause, let d = e.duration {
                schedule.append(ScenarioEvent(at: e.at + d, action: .resume, node: e.node))
            }
        }
        let ordered = Scenario.inTimeOrder(schedule)
        Thread { [self] in
            for e in ordered {
                while !lock.withLock({ stopped }), now() < e.at { usleep(UInt32(min(0.05, e.at - now()) * 1e6) + 1) }
                if lock.withLock({ stopped }) {
                    lock.withLock { notes.append("\(e.action.rawValue) at \(e.at) s not run: the run ended first") }
                    continue
                }
                run(e)
            }
            done.signal()
        }.start()
    }

    private func run(_ e: ScenarioEvent) {
        let at = now()
        if e.action == .rate {
            // The pacer already follows it (the run's phases); recorded for the report and the plots.
            lock.withLock { executed.append(ExecutedEvent(event: e, time: at, node: nil)) }
            log(String(format: "%6.1f s  rate %.0f ops/s", at, e.rate ?? 0))
            return
        }
        if e.action == .hotKey {
            side.enter()
            Thread { [self] in
                defer { side.leave() }
                var record = ExecutedEvent(event: e, time: at, node: nil)
                do {
                    let result = try HotKeyStorm(cluster: cluster, event: e).run()
                    record.node = result.node
                    let achieved = Double(result.operations) / max(e.duration ?? 1, 1e-9)
                    lock.withLock {
                        notes.append("hot-key \(e.key ?? "") on \(result.node): \(result.operations) operations "
                            + "(\(Int(achieved)) ops/s of \(Int(e.rate ?? 0)) asked), \(result.errors) errors")
                    }
                } catch {
                    record.problem = "\(error)"
                }
                lock.withLock { executed.append(record) }
            }.start()
            log(String(format: "%6.1f s  hot-key ", at) + (e.key ?? "") + String(format: " (%.0f ops/s for %.0f s)", e.rate ?? 0, e.duration ?? 0))
            return
        }
        var record = ExecutedEvent(event: e, time: at, node: e.node)
        do {
            record.node = try cluster.perform(e)
        } catch {
            record.problem = "\(error)"
        }
        log(String(format: "%6.1f s  ", at) + e.action.rawValue + " " + (record.node ?? "")
            + (record.problem.isEmpty ? "" : " FAILED: " + record.problem))
        lock.withLock { executed.append(record) }
    }

    /// Stops scheduling (events still due are noted as not run), waits for storms, returns what ran in time order.
    func finish() -> [ExecutedEvent] {
        lock.withLock { stopped = true }
        done.wait()
        side.wait()
        return lock.withLock { executed.sorted { $0.time < $1.time } }
    }
}
