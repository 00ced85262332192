/// The `field:value` lines of an `INFO` reply (section headers and blank lines skipped), as Redis and
/// `kvnode` write them: values keep inner spaces and lose leading spaces and trailing spaces or CRs.
public enum InfoFields {
    public static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { continue }
            var value = line[line.index(after: colon)...].drop { $0 == " " }
            while let last = value.last, last == " " || last == "\r" { value = value.dropLast() }
            fields[String(line[..<colon])] = String(value)
        }
        return fields
    }
}
