// The DOT writer: every node and edge of a tape, labels escaped for Graphviz, parameters and
// data styled apart, gradients shown once backward() has run and never created by printing.
#include <algorithm>
#include <string>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/graphviz.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/print.hpp>

using namespace stepgrad;

namespace {
std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The line of the DOT text that declares node i.
std::string node_line(const std::string& dot, std::size_t i) {
  const std::string start = "  n" + std::to_string(i) + " [";
  const std::size_t at = dot.find(start);
  if (at == std::string::npos) return "";
  return dot.substr(at, dot.find('\n', at) - at);
}

// x, W -> Z = W · x -> O = sigmoid(Z) -> L = sum(O): five nodes, four edges.
struct SmallNet {
  Parameter W{"W", Tensor::matrix({{0.5, -1.0}, {2.0, 0.25}})};
  Tape tape;
  Var x = tape.input(Tensor::vector({1.0, 2.0}), "x");
  Var Z = matmul(tape.param(W), x).named("Z");
  Var O = sigmoid(Z).named("O");
  Var L = sum(O).named("L");
};
}  // namespace

BOOST_AUTO_TEST_SUITE(graphviz)

BOOST_AUTO_TEST_CASE(every_node_and_every_input_edge_appears_once) {
  SmallNet net;
  const std::string dot = to_dot(net.tape);
  BOOST_TEST(dot.starts_with("// stepgrad tape"));
  BOOST_TEST(dot.find("digraph tape {") != std::string::npos);
  BOOST_TEST(dot.ends_with("}\n"));
  BOOST_TEST(count(dot, "{") == count(dot, "}"));
  for (std::size_t i = 0; i < net.tape.size(); ++i) {
    BOOST_TEST(count(dot, "  n" + std::to_string(i) + " [") == 1u, "node " << i);
    BOOST_TEST(node_line(dot, i).find("<B>" + net.tape.label(i) + "</B>") != std::string::npos,
               node_line(dot, i));
  }
  BOOST_TEST(count(dot, " -> ") == 4u);                      // x and W into Z, Z into O, O into L
  BOOST_TEST(dot.find("  n1 -> n2;") != std::string::npos);  // W (a) into Z
  BOOST_TEST(dot.find("  n0 -> n2;") != std::string::npos);  // x (b) into Z
  BOOST_TEST(dot.find("  n2 -> n3;") != std::string::npos);  // Z into O
  BOOST_TEST(dot.find("  n3 -> n4;") != std::string::npos);  // O into L
  BOOST_TEST(node_line(dot, 2).find("#2 matmul") != std::string::npos);
  // A small tensor shows every value: Z = W · x = (0.5 - 2, 2 + 0.5).
  BOOST_TEST(node_line(dot, 2).find("[-1.5000  2.5000]") != std::string::npos, node_line(dot, 2));
}

BOOST_AUTO_TEST_CASE(a_big_tensor_shows_a_summary) {
  Tape tape;
  tape.input(Tensor::zeros(kSmallTensor + 1), "x");
  BOOST_TEST(node_line(to_dot(tape), 0).find("(17,) min 0 max 0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(nodes_are_numbered_in_backward_order_with_their_rules) {
  SmallNet net;
  net.tape.backward(net.L);
  const std::string dot = to_dot(net.tape);
  // The sweep starts at L and ends at W; x is data and gets no step.
  BOOST_TEST(node_line(dot, 4).find("backward step 1<") != std::string::npos, node_line(dot, 4));
  BOOST_TEST(node_line(dot, 3).find("backward step 2<") != std::string::npos);
  BOOST_TEST(node_line(dot, 2).find("backward step 3<") != std::string::npos);
  BOOST_TEST(node_line(dot, 1).find("backward step 4<") != std::string::npos);
  BOOST_TEST(node_line(dot, 0).find("backward step") == std::string::npos);
  // Each op node shows the rule it applied, with its numbers.
  BOOST_TEST(node_line(dot, 3).find("grad Z += grad O ⊙ O (1 - O) = [1.0000 1.0000] ⊙ ") !=
                 std::string::npos,
             node_line(dot, 3));
  BOOST_TEST(node_line(dot, 2).find("grad W += grad Z · x^T") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_node_used_twice_gets_two_edges) {
  Tape tape;
  const Var x = tape.variable(Tensor::vector({3.0}), "x");
  mul(x, x).named("y");
  BOOST_TEST(count(to_dot(tape), "  n0 -> n1;") == 2u);
}

BOOST_AUTO_TEST_CASE(gradients_show_after_backward_and_printing_creates_none) {
  SmallNet net;
  const std::string before = to_dot(net.tape);
  BOOST_TEST(before.find(">grad ") == std::string::npos);
  BOOST_TEST(!net.W.has_grad());  // to_dot did not materialise a zero gradient
  net.tape.backward(net.L);
  const std::string after = to_dot(net.tape);
  BOOST_TEST(node_line(after, 1).find(">grad [[") != std::string::npos, node_line(after, 1));
  BOOST_TEST(node_line(after, 4).find(">grad 1.0000<") != std::string::npos);
  BOOST_TEST(node_line(after, 0).find(">grad ") == std::string::npos);  // data gets none
}

BOOST_AUTO_TEST_CASE(parameters_data_and_ops_are_styled_apart) {
  SmallNet net;
  const std::string dot = to_dot(net.tape);
  const std::string data = node_line(dot, 0), param = node_line(dot, 1), op = node_line(dot, 2);
  BOOST_TEST(param.find("penwidth=2") != std::string::npos, param);
  BOOST_TEST(data.find("penwidth") == std::string::npos);
  BOOST_TEST(op.find("penwidth") == std::string::npos);
  const auto fill = [](const std::string& line) {
    const std::size_t at = line.find("fillcolor=");
    return at == std::string::npos ? std::string() : line.substr(at, 20);
  };
  BOOST_TEST(!fill(data).empty());
  BOOST_TEST(fill(data) != fill(param));
  BOOST_TEST(fill(param) != fill(op));
  BOOST_TEST(fill(data) != fill(op));
  BOOST_TEST(dot.find("rankdir=") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(labels_are_escaped_for_graphviz) {
  Tape tape;
  tape.input(Tensor::vector({1.0}), "<b>\"a\" & b\\n\nc</b>");
  const std::string line = node_line(to_dot(tape), 0);
  BOOST_TEST(line.find("&lt;b&gt;&quot;a&quot; &amp; b\\n c&lt;/b&gt;") != std::string::npos, line);
  BOOST_TEST(line.find("<b>") == std::string::npos);
  BOOST_TEST(count(line, "\n") == 0u);  // a newline in a name cannot end the statement
}

BOOST_AUTO_TEST_CASE(an_empty_tape_is_an_empty_graph) {
  Tape tape;
  const std::string dot = to_dot(tape);
  BOOST_TEST(dot.find("0 nodes") != std::string::npos);
  BOOST_TEST(count(dot, " -> ") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
