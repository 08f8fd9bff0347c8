import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { ErrorBoundary } from './ui.tsx'
import './styles.css'

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ErrorBoundary
      fallback={(error) => (
        <main className="sign-in">
          <div className="problem" role="alert">
            <strong>The console failed</strong>
            <p>{error.message}</p>
            <button
              type="button"
              onClick={() => {
                sessionStorage.clear()
                window.location.reload()
              }}
            >
              Sign out and reload
            </button>
          </div>
        </main>
      )}
    >
      <App />
    </ErrorBoundary>
  </StrictMode>,
)
