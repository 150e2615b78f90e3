// Tailwind CSS v4 through PostCSS, as Next.js builds CSS (lightningcss ships its binary as an npm platform package).
export default { plugins: { "@tailwindcss/postcss": {} } };
