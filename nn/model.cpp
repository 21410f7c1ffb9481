// Model files on top of the .npz reader and writer.
#include <stepgrad/nn/model.hpp>

#include <charconv>
#include <map>
#include <stdexcept>
#include <vector>

#include <stepgrad/io/mnist.hpp>
#include <stepgrad/io/npz.hpp>
#include <stepgrad/io/output_set.hpp>

namespace stepgrad {

void save_model(const std::filesystem::path& path, const Network& net, std::string_view options) {
  if (options.find(net.options().describe()) == std::string_view::npos) {
    throw std::invalid_argument("save_model: the options line must include the network's options");
  }
  std::vector<NpzEntry> entries{{"W0", net.W0.value}, {"W1", net.W1.value}, {"W2", net.W2.value}};
  if (net.options().bias) {
    entries.push_back({"b0", net.b0.value});
    entries.push_back({"b1", net.b1.value});
    entries.push_back({"b2", net.b2.value});
  }
  entries.push_back({"options", std::string(options)});
  save_npz(path, entries);
}

OptionsLine parse_options_line(std::string_view line) {
  OptionsLine kv;
  std::size_t pos = 0;
  while (pos < line.size()) {
    const std::size_t end = std::min(line.find(' ', pos), line.size());
    const std::string_view word = line.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) continue;
    const std::size_t eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      throw std::invalid_argument(fmt::format("options: '{}' is not key=value", word));
    }
    const std::string key(word.substr(0, eq));
    if (!kv.emplace(key, std::string(word.substr(eq + 1))).second) {
      throw std::invalid_argument(fmt::format("options: '{}=' appears twice", key));
    }
  }
  return kv;
}

NetworkOptions parse_network_options(std::string_view line) {
  const OptionsLine kv = parse_options_line(line);
  auto need = [&](std::string_view key) -> const std::string& {
    const auto it = kv.find(key);
    if (it == kv.end())
      throw std::invalid_argument(fmt::format("options: no '{}=' in \"{}\"", key, line));
    return it->second;
  };
  NetworkOptions o;
  const std::string& bias = need("bias");
  if (bias != "true" && bias != "false")
    throw std::invalid_argument(fmt::format("options: bias={} is not true or false", bias));
  o.bias = bias == "true";
  o.activation = parse_enum<Activation>(need("activation"), "activation");
  o.init = parse_enum<InitScale>(need("init"), "init");
  const std::string& seed = need("seed");
  const auto [ptr, ec] = std::from_chars(seed.data(), seed.data() + seed.size(), o.seed);
  if (ec != std::errc() || ptr != seed.data() + seed.size()) {
    throw std::invalid_argument(fmt::format("options: seed={} is not a number below 2^32", seed));
  }
  return o;
}

Model model_from_entries(std::span<const NpzEntry> entries, std::string_view file) {
  Model m{Network(), require_string(entries, "options", file)};
  // The line is printed as it is: a control character (an escape sequence, a newline) could
  // print lines the program never wrote ("accuracy: 0.9999").
  for (std::size_t i = 0; i < m.options.size(); ++i) {
    const auto c = static_cast<unsigned char>(m.options[i]);
    if (c < 0x20 || c == 0x7f) {
      throw ModelFileError(fmt::format(
          "{}: options: a control character (byte 0x{:02x}) at position {}; refused", file, c, i));
    }
  }
  try {
    m.network = Network(parse_network_options(m.options));
    // The data options the programs read back are checked here too (R28).
    const OptionsLine kv = parse_options_line(m.options);
    if (const auto it = kv.find("split"); it != kv.end())
      parse_enum<SplitKind>(it->second, "split");
    if (const auto it = kv.find("dataset"); it != kv.end()) {
      parse_enum<DatasetKind>(it->second, "dataset");
    }
  } catch (const std::invalid_argument& e) {
    throw ModelFileError(fmt::format("{}: {}", file, e.what()));
  }
  std::vector<std::string> expected{"options"};
  for (Parameter* p : m.network.parameters()) {
    p->value = require_tensor(entries, p->name, p->value.shape(), file);
    if (!all_finite(p->value)) {  // a NaN weight would predict garbage silently
      throw ModelFileError(fmt::format("{}: array {} holds NaN or Inf", file, p->name));
    }
    expected.push_back(p->name);
  }
  for (const NpzEntry& e : entries) {
    if (std::find(expected.begin(), expected.end(), e.name) == expected.end()) {
      throw ModelFileError(fmt::format("{}: unexpected array {} (the options say {})", file, e.name,
                                       m.network.options().describe()));
    }
  }
  return m;
}

Model load_model(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = read_npz_file(path);
  // A model its folder's manifest lists must be the one its run wrote (Note [One set of outputs]).
  try {
    check_output_bytes(path, bytes);
  } catch (const FileError& e) {
    throw ModelFileError(e.what());
  }
  const std::vector<NpzEntry> entries = load_npz_bytes(bytes, path.string());
  return model_from_entries(entries, path.string());
}

}  // namespace stepgrad
