/// Runs the deterministic membership simulation: N nodes start and join through the seeds, then a
/// series of fault episodes (crash and restart, SIGSTOP-like pause, partition, graceful leave and
/// rejoin) under message loss and delay, each followed by a wait until every live member holds the
/// same view. Checks per seed: (a) a crashed node is marked down by every live member within
/// `detectionBound`; (b) a paused node is never declared down (nor a reachable running one outside
/// partitions); (c) views converge within `convergenceBound` after each episode; (d) a restarted
/// node is up again everywhere within `restartBound`.
public enum MembershipSimulator {
    /// Runs one seed.
    public static func run(seed: UInt64, options: MembershipSimulationOptions = MembershipSimulationOptions())
        -> MembershipSimulationResult {
        let run = EpisodeRunner(seed: seed, options: options)
        run.execute()
        return run.world.result
    }

    /// Runs `count` seeds from `first`; stops early after `stopAfterFailures` failing seeds (0: never).
    public static func run(seeds count: Int, from first: UInt64,
                           options: MembershipSimulationOptions = MembershipSimulationOptions(),
                           stopAfterFailures: Int = 0) -> MembershipSimulationSummary {
        var summary = MembershipSimulationSummary()
        for s in 0..<UInt64(count) {
            summary.add(run(seed: first &+ s, options: options))
            if stopAfterFailures > 0 && summary.failures.count >= stopAfterFailures { break }
        }
        return summary
    }
}

/// One run's script and observers.
final class EpisodeRunner {
    let world: SimulationWorld
    let options: MembershipSimulationOptions
    var rng: SplitMixRandom
    let idIndex: [String: Int]
    /// Crashed node → (its incarnation, crash time, observers that marked it down).
    var crashed: [Int: (incarnation: UInt64, at: UInt64, detected: Set<Int>)] = [:]
    var paused: (node: Int, incarnation: UInt64)?
    /// Restarted node → (its new incarnation, restart time, observers that saw it up since).
    var restarted: [Int: (incarnation: UInt64, at: UInt64, seenUp: Set<Int>)] = [:]
    var partitionEpisode = false
    var suspicionsSeen: Set<SuspicionKey> = []

    struct SuspicionKey: Hashable {
        var node: Int
        var incarnation: UInt64
    }

    init(seed: UInt64, options: MembershipSimulationOptions) {
        self.options = options
        world = SimulationWorld(seed: seed, options: options)
        rng = SplitMixRandom(seed: seed ^ 0xE915_0DE5)
        var idx: [String: Int] = [:]
        for (i, id) in world.ids.enumerated() { idx[id] = i }
        idIndex = idx
        world.onChange = { [unowned self] observer, change in self.observe(observer, change) }
    }

    func execute() {
        for i in 0..<options.nodes {
            world.run(until: world.now + rng.tick(0...200))
            world.boot(i)
        }
        awaitConvergence(label: "initial join")
        var kinds: [Int] = []
        if options.crashes { kinds.append(0) }
        if options.pauses { kinds.append(1) }
        if options.partitions { kinds.append(2) }
        if options.churn { kinds.append(3) }
        for _ in 0..<options.episodes where !kinds.isEmpty {
            world.run(until: world.now + rng.tick(0...2_000))
            switch kinds[rng.int(0...(kinds.count - 1))] {
            case 0: crashEpisode()
            case 1: pauseEpisode()
            case 2: partitionEpisode = true; partitionEpisodeRun()
            default: leaveEpisode()
            }
            awaitConvergence(label: "episode")
            partitionEpisode = false
        }
        world.result.endTime = world.now
    }

    func note(_ text: String) { if options.trace { world.result.trace.append("t=\(world.now) " + text) } }

    func violation(_ text: String) { world.result.violations.append("t=\(world.now) " + text) }

    func randomRunning() -> Int {
        let running = (0..<options.nodes).filter { world.isRunning($0) }
        return running[rng.int(0...(running.count - 1))]
    }

    // MARK: Episodes

    func crashEpisode() {
        let j = randomRunning()
        let incarnation = world.nodes[j]!.me.incarnation
        world.stop(j)
        note("crash n\(j)")
        world.result.crashes += 1
        // Half the time the process comes back before anyone could notice (restart, not failure).
        if rng.chance(0.5) {
            world.run(until: world.now + rng.tick(100...1_500))
        } else {
            crashed[j] = (incarnation, world.now, [])
            world.run(until: world.now + options.detectionBound)
            for o in 0..<options.nodes where o != j && world.isRunning(o) && !crashed[j]!.detected.contains(o) {
                violation("n\(o) did not mark crashed n\(j) down within \(options.detectionBound) ms")
            }
            crashed[j] = nil
        }
        restartAndCheck(j)
    }

    func restartAndCheck(_ j: Int) {
        world.boot(j)
        let incarnation = world.nodes[j]!.me.incarnation
        note("restart n\(j) as incarnation \(incarnation)")
        restarted[j] = (incarnation, world.now, [])
        world.run(until: world.now + options.restartBound)
        for o in 0..<options.nodes where o != j && world.isRunning(o) && !restarted[j]!.seenUp.contains(o) {
            let m = world.nodes[o]!.member(world.ids[j])
            violation("n\(o) did not see restarted n\(j) (incarnation \(incarnation)) up within \(options.restartBound) ms: \(m.map(\.description) ?? "unknown")")
        }
        restarted[j] = nil
    }

    func pauseEpisode() {
        let j = randomRunning()
        paused = (j, world.nodes[j]!.me.incarnation)
        let duration = rng.tick(options.pauseDuration)
        world.pause(j, for: duration)
        note("pause n\(j) for \(duration) ms")
        world.result.pauses += 1
        world.run(until: world.now + duration + options.config.suspicionMaxTimeout + options.config.probeInterval)
        paused = nil
    }

    func partitionEpisodeRun() {
        var sides = (0..<options.nodes).map { _ in rng.int(0...1) }
        if Set(sides).count == 1 { sides[0] = 1 - sides[0] }
        world.side = sides
        note("partition \(sides)")
        world.result.partitions += 1
        world.run(until: world.now + rng.tick(options.partitionDuration))
        world.side = nil
        note("heal")
    }

    func leaveEpisode() {
        let j = randomRunning()
        note("leave n\(j)")
        world.drive(j, .leave)
        world.result.leaves += 1
        world.run(until: world.now + 2_000)
        world.stop(j)
        world.run(until: world.now + options.detectionBound)
        for o in 0..<options.nodes where o != j && world.isRunning(o) {
            let status = world.nodes[o]!.member(world.ids[j])?.status
            if status != .removed { violation("n\(o) sees left n\(j) as \(status.map(\.description) ?? "unknown")") }
        }
        restartAndCheck(j)
    }

    /// Runs until every node runs and all views are identical with everyone up; records the time.
    func awaitConvergence(label: String) {
        let start = world.now
        while world.now - start <= options.convergenceBound {
            if converged() { return world.result.convergenceTimes.append(world.now - start) }
            world.run(until: world.now + 100)
        }
        violation("\(label): views did not converge within \(options.convergenceBound) ms")
    }

    func converged() -> Bool {
        guard (0..<options.nodes).allSatisfy({ world.isRunning($0) }) else { return false }
        let first = world.view(0)
        guard first.count == options.nodes else { return false }
        for (i, m) in first.enumerated() where m.status != .up || m.incarnation != world.nodes[i]!.me.incarnation {
            return false
        }
        return (1..<options.nodes).allSatisfy { world.view($0) == first }
    }

    // MARK: Observation

    func observe(_ observer: Int, _ change: MembershipChange) {
        if options.trace { note("n\(observer): \(change.previous?.description ?? "-") -> \(change.member)") }
        guard let j = idIndex[change.member.id] else { return }
        let m = change.member
        if j == observer {
            if let p = change.previous, m.incarnation > p.incarnation, m.status == .up, p.status != .joining {
                world.result.refutations += 1
            }
            return
        }
        // A statement about an older life of a restarted node is not about the running process.
        let current = world.nodes[j]?.me.incarnation
        let aboutRunning = current.map { m.incarnation >= $0 } ?? false
        if m.status == .up, var r = restarted[j], m.incarnation >= r.incarnation, !r.seenUp.contains(observer) {
            r.seenUp.insert(observer)
            restarted[j] = r
            world.result.restartTimes.append(world.now - r.at)
        }
        switch m.status {
        case .suspect:
            // Counted once per suspicion (a refutation starts a new incarnation), not per observer.
            guard aboutRunning, suspicionsSeen.insert(SuspicionKey(node: j, incarnation: m.incarnation)).inserted
            else { return }
            if paused?.node == j { world.result.pauseSuspicions += 1 }
            else if world.reachable(observer, j) && !partitionEpisode {
                world.result.falseSuspicions += 1
                note("false suspicion of n\(j) by n\(observer)")
            }
        case .down, .removed:
            if var c = crashed[j], m.incarnation == c.incarnation, !c.detected.contains(observer) {
                c.detected.insert(observer)
                crashed[j] = c
                world.result.detectionTimes.append(world.now - c.at)
            }
            guard m.status == .down, aboutRunning else { return }
            if let p = paused, p.node == j {
                world.result.falseDowns += 1
                violation("n\(observer) declared paused n\(j) down")
            } else if world.reachable(observer, j) && !partitionEpisode {
                world.result.falseDowns += 1
                violation("n\(observer) declared running n\(j) down")
            }
        default:
            break
        }
    }
}
