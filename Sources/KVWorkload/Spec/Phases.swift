/// A duration in seconds, parsed from `250ms`, `10s`, `2m`, `1h` or a bare number of seconds.
enum DurationSyntax {
    static func seconds(_ text: String) -> Double? {
        let t = text.trimmingWhitespace().lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            guard let number = Double(t.dropLast(suffix.count)), number >= 0, number.isFinite else { return nil }
            return number * scale
        }
        guard let number = Double(t), number >= 0, number.isFinite else { return nil }
        return number
    }
}

/// `warmup`: how much of the start of a run is excluded from statistics.
public enum Warmup: Sendable, Equatable {
    case none
    /// The first N seconds (`warmup=30s`, `warmup=500ms`).
    case seconds(Double)
    /// The first N operations (`warmup=10000` or `warmup=10000ops`).
    case operations(Int64)

    /// Parses `30s` / `500ms` / `2m` (time) or `10000` / `10000ops` (operations); `0` is none.
    public static func parse(_ text: String) -> Warmup? {
        let t = text.trimmingWhitespace().lowercased()
        if t.isEmpty || t == "0" || t == "none" { return Warmup.none }
        let countText = t.hasSuffix("ops") ? String(t.dropLast(3)) : t
        if let count = Int64(countText), count >= 0 { return count == 0 ? Warmup.none : .operations(count) }
        if let seconds = DurationSyntax.seconds(t) { return seconds == 0 ? Warmup.none : .seconds(seconds) }
        return nil
    }
}

/// One step of `phases`: a duration and an offered rate that goes linearly from `startRate`
/// to `endRate` (equal for a flat step). A rate of 0 means unthrottled (closed loop).
public struct Phase: Sendable, Equatable {
    public var duration: Double
    public var startRate: Double
    public var endRate: Double

    public init(duration: Double, startRate: Double, endRate: Double) {
        self.duration = duration
        self.startRate = startRate
        self.endRate = endRate
    }

    /// The offered rate `elapsed` seconds into this phase.
    public func rate(at elapsed: Double) -> Double {
        guard duration > 0 else { return endRate }
        let f = Swift.min(Swift.max(elapsed / duration, 0), 1)
        return startRate + (endRate - startRate) * f
    }

    /// Parses `phases`: comma-separated steps `DURATION@RATE` or `DURATION@FROM..TO` (a linear
    /// ramp). DURATION is `500ms`, `10s`, `2m`, `1h` or bare seconds; RATE is total ops/s,
    /// `0` or `max` for unthrottled. Example: `10s@1000,30s@1000..20000,5s@50000,10s@1000`
    /// = a 10 s base, a 30 s ramp, a 5 s spike, a 10 s tail. Returns nil on a syntax error.
    public static func parseList(_ text: String) -> [Phase]? {
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty { return [] }
        var phases: [Phase] = []
        for step in trimmed.split(separator: ",") {
            let parts = step.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, let duration = DurationSyntax.seconds(String(parts[0])), duration > 0 else { return nil }
            let rates = String(parts[1]).trimmingWhitespace()
            let ends = rates.split(separator: "..", omittingEmptySubsequences: false)
            guard (1...2).contains(ends.count) else { return nil }
            var parsed: [Double] = []
            for end in ends {
                let e = String(end).trimmingWhitespace().lowercased()
                if e == "max" { parsed.append(0); continue }
                guard let r = Double(e), r >= 0, r.isFinite else { return nil }
                parsed.append(r)
            }
            phases.append(Phase(duration: duration, startRate: parsed[0], endRate: parsed.last!))
        }
        return phases
    }
}
