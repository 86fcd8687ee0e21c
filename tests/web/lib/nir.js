// Valid NIRs for test persons: sex, birth year and month consistent with the
// birth date, key = 97 - (number mod 97).
let seq = Math.floor(Math.random() * 900) + 1;

export function nirKey(thirteen) {
  const n = BigInt(thirteen.replace('2A', '19').replace('2B', '18'));
  return String(97n - (n % 97n)).padStart(2, '0');
}

/** A new NIR for someone born on birthDate (YYYY-MM-DD). */
export function newNir(birthDate, sex = 1) {
  const [y, m] = birthDate.split('-');
  const commune = String(100 + Math.floor(Math.random() * 800)).padStart(3, '0');
  seq = (seq % 998) + 1;
  const order = String(seq).padStart(3, '0');
  const thirteen = `${sex}${y.slice(2)}${m}75${commune}${order}`;
  return thirteen + nirKey(thirteen);
}
