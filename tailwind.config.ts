import type { Config } from "tailwindcss";

export default {
  content: ["./app/**/*.{ts,tsx}", "./components/**/*.{ts,tsx}"],
  theme: {
    extend: {
      colors: {
        brand: { 50: "#eef6ff", 500: "#2f6fed", 600: "#1f5bd6", 700: "#1848ad" },
      },
    },
  },
} satisfies Config;
