/// Typed reads of a `WorkloadProperties` with defaults and errors that name key and source.
struct PropertyReader {
    let properties: WorkloadProperties

    func raw(_ key: String) -> String? { properties[key]?.trimmingWhitespace() }

    func fail(_ key: String, _ expected: String) -> WorkloadError {
        .badValue(key: key, value: properties[key] ?? "", source: properties.source(of: key) ?? .defaultValue, expected: expected)
    }

    func string(_ key: String, _ defaultValue: String) -> String {
        guard let value = raw(key), !value.isEmpty else { return defaultValue }
        return value
    }

    func int(_ key: String, _ defaultValue: Int64, min: Int64 = .min, max: Int64 = .max) throws -> Int64 {
        guard let text = raw(key), !text.isEmpty else { return defaultValue }
        guard let value = Int64(text) else { throw fail(key, "an integer") }
        guard value >= min, value <= max else { throw fail(key, "an integer in \(min)…\(max)") }
        return value
    }

    func double(_ key: String, _ defaultValue: Double, min: Double = -.infinity, max: Double = .infinity,
                minExclusive: Bool = false) throws -> Double {
        guard let text = raw(key), !text.isEmpty else { return defaultValue }
        guard let value = Double(text), value.isFinite else { throw fail(key, "a number") }
        let tooLow = minExclusive ? value <= min : value < min
        guard !tooLow, value <= max else {
            throw fail(key, "a number \(minExclusive ? ">" : "≥") \(min)\(max.isFinite ? " and ≤ \(max)" : "")")
        }
        return value
    }

    func bool(_ key: String, _ defaultValue: Bool) throws -> Bool {
        guard let text = raw(key)?.lowercased(), !text.isEmpty else { return defaultValue }
        switch text {
        case "true": return true
        case "false": return false
        default: throw fail(key, "true or false")
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ defaultValue: T) throws -> T where T.RawValue == String {
        guard let text = raw(key), !text.isEmpty else { return defaultValue }
        guard let value = T(rawValue: text.lowercased()) else {
            throw fail(key, "one of " + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }
}
