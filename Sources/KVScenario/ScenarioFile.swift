import Foundation
import Yams

/// Reads a scenario from YAML (Yams). Durations are numbers of seconds or strings with a unit:
/// `20s`, `500ms`, `2m`. Unknown keys are errors, so a typo never silently drops an event.
///
/// ```yaml
/// name: add-node
/// description: A sixth node joins a five-node cluster under load.
/// cluster: { nodes: 5, n: 3, r: 2, w: 2, args: ["--fsync", "everysec"] }
/// run: { duration: 60s, warmup: 5s }
/// events:
///   - { at: 20s, action: add-node }
/// ```
public enum ScenarioFile {
    /// Loads and validates the scenario at `path`.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .invalid("cannot read \(path)")
        }
        return try parse(text, source: path)
    }

    /// One decoder for every parse: making a YAMLDecoder reads the whole process environment (Yams looks up
    /// its default encoding there), which was a sixth of a parse. Decoding only reads the decoder's options.
    nonisolated(unsafe) private static let yamlDecoder = YAMLDecoder(encoding: .utf8)

    /// Parses scenario YAML; `source` names it in errors.
    public static func parse(_ text: String, source: String = "scenario") throws(ScenarioError) -> Scenario {
        let raw: RawScenario
        do {
            raw = try yamlDecoder.decode(RawScenario.self, from: text)
        } catch let error as ScenarioError {
            throw .invalid("\(source): \(error.description.replacingOccurrences(of: "scenario: ", with: ""))")
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalid("\(source): missing '\(key.stringValue)' at \(path(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            throw .invalid("\(source): \(context.debugDescription) at \(path(context.codingPath))")
        } catch {
            throw .invalid("\(source): \(error)")
        }
        var cluster = ClusterSpec()
        if let c = raw.cluster {
            cluster.nodes = c.nodes ?? cluster.nodes
            cluster.host = c.host ?? cluster.host
            cluster.basePort = c.basePort ?? cluster.basePort
            cluster.n = c.n ?? min(3, cluster.nodes)
            cluster.r = c.r ?? min(2, cluster.n)
            cluster.w = c.w ?? min(2, cluster.n)
            cluster.args = c.args ?? []
        }
        var events: [ScenarioEvent] = []
        for (i, e) in (raw.events ?? []).enumerated() {
            guard let action = ScenarioAction(rawValue: e.action) else {
                if e.action == "partition" || e.action == "heal" {
                    throw .invalid("\(source): event \(i + 1): \(e.action) needs network namespaces and iptables (root); "
                        + "scripts/partition_test.py runs partitions, this runner does not")
                }
                throw .invalid("\(source): event \(i + 1): unknown action '\(e.action)' (known: "
                    + ScenarioAction.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            events.append(ScenarioEvent(at: e.at.seconds, action: action, node: e.node, duration: e.duration?.seconds,
                                        rate: e.rate, key: e.key, connections: e.connections ?? 4))
        }
        do {
            return try Scenario(name: raw.name, description: raw.description ?? "", cluster: cluster,
                                duration: raw.run?.duration?.seconds, warmup: raw.run?.warmup?.seconds, events: events)
        } catch {
            throw .invalid("\(source): \(error.description.replacingOccurrences(of: "scenario: ", with: ""))")
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    /// Seconds from `20`, `20s`, `500ms`, `1.5m`; nil for anything else.
    public static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0)] where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count)), v.isFinite else { return nil }
            return v * scale
        }
        guard let v = Double(t), v.isFinite else { return nil }
        return v
    }
}

/// A duration in YAML: a number of seconds or a string with a unit.
struct DurationValue: Decodable {
    var seconds: Double

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Double.self), v.isFinite {
            seconds = v
        } else if let s = try? c.decode(String.self), let v = ScenarioFile.seconds(s) {
            seconds = v
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a duration like 20s, 500ms or 2m")
        }
    }
}

extension KeyedDecodingContainer {
    /// A whole number in decimal, parsed from the scalar's text rather than by Yams's integer construction,
    /// which traps on an overflowing base-60 number such as `-220000111111111111:1` (found by ScenarioFuzz).
    func decodeWholeNumberIfPresent(forKey key: Key) throws -> Int? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let value = Int(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self,
                                                   debugDescription: "expected a whole number, got '\(text.prefix(40))'")
        }
        return value
    }
}

/// Rejects keys a struct does not know (Decodable ignores them by default).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

func rejectUnknownKeys(_ decoder: Decoder, known: [String]) throws {
    let c = try decoder.container(keyedBy: AnyKey.self)
    for key in c.allKeys where !known.contains(key.stringValue) {
        throw DecodingError.dataCorruptedError(forKey: key, in: c,
            debugDescription: "unknown key '\(key.stringValue)' (known: \(known.joined(separator: ", ")))")
    }
}

struct RawScenario: Decodable {
    var name: String
    var description: String?
    var cluster: RawCluster?
    var run: RawRun?
    var events: [RawEvent]?

    enum CodingKeys: String, CodingKey, CaseIterable { case name, description, cluster, run, events }

    init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        cluster = try c.decodeIfPresent(RawCluster.self, forKey: .cluster)
        run = try c.decodeIfPresent(RawRun.self, forKey: .run)
        events = try c.decodeIfPresent([RawEvent].self, forKey: .events)
    }
}

struct RawCluster: Decodable {
    var nodes: Int?, host: String?, basePort: Int?, n: Int?, r: Int?, w: Int?, args: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case nodes, host, basePort = "base-port", n, r, w, args
    }

    init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodes = try c.decodeWholeNumberIfPresent(forKey: .nodes)
        host = try c.decodeIfPresent(String.self, forKey: .host)
        basePort = try c.decodeWholeNumberIfPresent(forKey: .basePort)
        n = try c.decodeWholeNumberIfPresent(forKey: .n)
        r = try c.decodeWholeNumberIfPresent(forKey: .r)
        w = try c.decodeWholeNumberIfPresent(forKey: .w)
        args = try c.decodeIfPresent([String].self, forKey: .args)
    }
}

struct RawRun: Decodable {
    var duration: DurationValue?, warmup: DurationValue?

    enum CodingKeys: String, CodingKey, CaseIterable { case duration, warmup }

    init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        duration = try c.decodeIfPresent(DurationValue.self, forKey: .duration)
        warmup = try c.decodeIfPresent(DurationValue.self, forKey: .warmup)
    }
}

struct RawEvent: Decodable {
    var at: DurationValue, action: String, node: String?, duration: DurationValue?, rate: Double?, key: String?
    var connections: Int?

    enum CodingKeys: String, CodingKey, CaseIterable { case at, action, node, duration, rate, key, connections }

    init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        at = try c.decode(DurationValue.self, forKey: .at)
        action = try c.decode(String.self, forKey: .action)
        node = try c.decodeIfPresent(String.self, forKey: .node)
        duration = try c.decodeIfPresent(DurationValue.self, forKey: .duration)
        rate = try c.decodeIfPresent(Double.self, forKey: .rate)
        key = try c.decodeIfPresent(String.self, forKey: .key)
        connections = try c.decodeWholeNumberIfPresent(forKey: .connections)
    }
}
