export function App() {
  return <h1>beeline</h1>;
}
