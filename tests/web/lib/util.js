/** "1 84 05 75 056 123 45": what a person types from the carte Vitale. */
export function formatNir(nir) {
  const s = String(nir);
  return [s[0], s.slice(1, 3), s.slice(3, 5), s.slice(5, 7), s.slice(7, 10), s.slice(10, 13), s.slice(13)].join(' ');
}
