"use client";

import { useEffect, useRef, useState } from "react";

/**
 * A table's box on a narrow screen: the table scrolls sideways inside it instead of widening the
 * page. While it does, the box is a named region in the tab order, so a keyboard can scroll it
 * too (WCAG 2.1.1); when everything fits it adds no tab stop. Relative, so that a column name
 * hidden for screen readers (absolutely positioned) stays inside it.
 */
export function ScrollX({ label, children }: { label: string; children: React.ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = () => setScrolls(element.scrollWidth > element.clientWidth + 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    if (element.firstElementChild) observer.observe(element.firstElementChild);
    return () => observer.disconnect();
  }, []);
  return (
    <div ref={box} className="relative overflow-x-auto" {...(scrolls ? { tabIndex: 0, role: "region", "aria-label": `${label} (scrolls sideways)` } : {})}>
      {children}
    </div>
  );
}
